//! The `chat` program's routes, on wsup alone (`run_requests`): the page,
//! the room's WebSocket, the room's member count.
//!
//! Rooms are topics of a [`Hub`]: a member subscribes to its room, and
//! each text message it sends is published there, to every member, the
//! sender included, byte for byte. With a Redis bridge on the hub
//! (`--redis`), every node's members of a room are one room.

use wsup::http::{Response, StatusCode};
use wsup::hub::Hub;
use wsup::{Bytes, Message, MessageKind, PendingUpgrade, PreparedMessage, UpgradeSource};

/// The page: HTML and JavaScript, served as they are.
pub const PAGE: &str = include_str!("page.html");

/// The longest room name taken, in bytes (decoded).
pub const MAX_ROOM: usize = 64;

/// Routes one request: `GET /` the page, `/ws?room=NAME` a member of the
/// room, `GET /presence?room=NAME` its member count as JSON.
pub async fn route<S: UpgradeSource>(hub: Hub, req: PendingUpgrade<'_, S>) {
    let parts = req.parts();
    let room = parts.uri.query().and_then(|q| query_value(q, "room"));
    let response = match (parts.uri.path(), room) {
        ("/", _) => respond(StatusCode::OK, "text/html; charset=utf-8", PAGE.into()),
        ("/ws" | "/presence", None) => {
            text(StatusCode::BAD_REQUEST, "a room is needed: ?room=NAME")
        }
        ("/ws" | "/presence", Some(Err(why))) => text(StatusCode::BAD_REQUEST, why),
        ("/ws", Some(Ok(room))) => {
            if let Ok(ws) = req.upgrade().await {
                member(hub, room, ws).await;
            }
            return;
        }
        ("/presence", Some(Ok(room))) => {
            let body = serde_json::json!({ "room": room, "members": hub.subscribers(&room) });
            respond(StatusCode::OK, "application/json", body.to_string())
        }
        _ => text(StatusCode::NOT_FOUND, "not found"),
    };
    let _ = req.respond(response).await;
}

/// A member of `room` until its connection ends (leaving the room).
async fn member<T>(hub: Hub, room: String, mut ws: wsup::WebSocket<T>)
where
    T: wsup::futures_io::AsyncRead + wsup::futures_io::AsyncWrite + Unpin,
{
    hub.subscribe(&room, &ws.sender());
    while let Ok(msg) = ws.recv().await {
        if let Message::Text(text) = msg {
            let msg = PreparedMessage::new(MessageKind::Text, text.into_bytes())
                .expect("received text is UTF-8");
            hub.publish(&room, msg).await;
        }
    }
}

fn respond(status: StatusCode, content_type: &'static str, body: String) -> Response<Bytes> {
    let mut res = Response::new(Bytes::from(body));
    *res.status_mut() = status;
    res.headers_mut()
        .insert("content-type", content_type.parse().expect("static"));
    res
}

fn text(status: StatusCode, body: &str) -> Response<Bytes> {
    respond(status, "text/plain; charset=utf-8", format!("{body}\n"))
}

/// The value of `name` in a query string, percent-decoded (`+` is a
/// space): `None` if absent, `Err` if empty, too long or not UTF-8.
pub fn query_value(query: &str, name: &str) -> Option<Result<String, &'static str>> {
    let raw = query
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .find(|(k, _)| *k == name)?
        .1;
    Some(decode(raw))
}

fn decode(raw: &str) -> Result<String, &'static str> {
    let mut out = Vec::with_capacity(raw.len());
    let mut bytes = raw.bytes();
    while let Some(b) = bytes.next() {
        out.push(match b {
            b'+' => b' ',
            b'%' => {
                let hex = [bytes.next(), bytes.next()];
                let hex = match hex {
                    [Some(h), Some(l)] => [h, l],
                    _ => return Err("a bad %-escape in the room name"),
                };
                std::str::from_utf8(&hex)
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or("a bad %-escape in the room name")?
            }
            b => b,
        });
    }
    let room = String::from_utf8(out).map_err(|_| "the room name is not UTF-8")?;
    match room.len() {
        0 => Err("a room is needed: ?room=NAME"),
        n if n > MAX_ROOM => Err("the room name is too long"),
        _ => Ok(room),
    }
}

#[cfg(test)]
mod tests {
    use super::query_value;

    #[test]
    fn room_names_are_decoded_and_checked() {
        assert_eq!(query_value("room=lobby", "room"), Some(Ok("lobby".into())));
        assert_eq!(
            query_value("x=1&room=a%20b+c", "room"),
            Some(Ok("a b c".into()))
        );
        assert_eq!(
            query_value("room=%C3%A9t%C3%A9", "room"),
            Some(Ok("été".into()))
        );
        assert_eq!(query_value("x=1", "room"), None);
        assert!(matches!(query_value("room=", "room"), Some(Err(_))));
        assert!(matches!(query_value("room", "room"), Some(Err(_))));
        assert!(matches!(query_value("room=%zz", "room"), Some(Err(_))));
        assert!(matches!(query_value("room=%c3", "room"), Some(Err(_))));
        assert!(matches!(
            query_value(&format!("room={}", "a".repeat(65)), "room"),
            Some(Err(_))
        ));
    }
}
