//! The seed program: an HTTP server on 127.0.0.1:8888 where `GET /` answers
//! `Hello World` and `/ws` upgrades to an echo WebSocket.
//!
//! Plain requests are answered by a small fallback handler on the raw path;
//! this is not a general HTTP server. Usage: `hello [ADDR]`.

use std::sync::Arc;

use wsup::RawStream;
use wsup_examples::{hello, rt, ServerArgs};

fn main() -> std::io::Result<()> {
    wsup_examples::log_to_stderr();
    let args = ServerArgs::from_env("hello", "127.0.0.1:8888");
    rt::block_on(async {
        let listener = rt::bind(&args.addr).await?;
        println!("listening on http://{}", listener.local_addr()?);
        let upgrader = Arc::new(args.apply(rt::upgrader()));
        loop {
            let stream = rt::accept(&listener).await?;
            let upgrader = upgrader.clone();
            rt::spawn(async move { hello(&upgrader, RawStream::new(stream)).await });
        }
    })
}
