//! The upgrade seam: where an upgrade request comes from.
//!
//! One [`crate::Upgrader`] serves both kinds of source: a raw stream whose
//! request head wsup reads itself ([`RawStream`]), and a server that already
//! parsed the request and hands over the connection with the parts
//! ([`Preparsed`]). A source yields the request head, takes the response, and
//! returns the transport with any bytes that arrived after the head.
//!
//! (An HTTP server that writes the 101 itself, such as hyper, uses
//! [`crate::Upgrader::negotiate`] instead and builds the connection with
//! [`crate::Accepted::into_websocket`] once it has the upgraded IO.)

use std::future::Future;

use bytes::Bytes;
use futures_io::{AsyncRead, AsyncWrite};
use http::request::Parts;
use http::Response;

use crate::error::HandshakeError;
use crate::handshake::{read_head, write_response, HeadLimits};

/// Where an upgrade request comes from.
pub trait UpgradeSource: Send {
    /// The transport the connection runs on.
    type Io: AsyncRead + AsyncWrite + Unpin + Send;

    /// The request head (read from the wire, or handed over).
    fn request(
        &mut self,
        limits: &HeadLimits,
    ) -> impl Future<Output = Result<Parts, HandshakeError>> + Send;

    /// Writes `response` (a 101 or a rejection) and gives back the transport
    /// and whatever arrived after the request head.
    fn respond(
        self,
        response: Response<Bytes>,
    ) -> impl Future<Output = Result<(Self::Io, Bytes), HandshakeError>> + Send;
}

/// A raw stream: wsup reads the request head itself.
#[derive(Debug)]
pub struct RawStream<T> {
    io: T,
    leftover: Bytes,
}

impl<T> RawStream<T> {
    /// Wraps a freshly accepted stream.
    pub fn new(io: T) -> Self {
        RawStream {
            io,
            leftover: Bytes::new(),
        }
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> UpgradeSource for RawStream<T> {
    type Io = T;

    async fn request(&mut self, limits: &HeadLimits) -> Result<Parts, HandshakeError> {
        let (parts, leftover) = read_head(&mut self.io, limits).await?;
        self.leftover = leftover;
        Ok(parts)
    }

    async fn respond(mut self, response: Response<Bytes>) -> Result<(T, Bytes), HandshakeError> {
        write_response(&mut self.io, &response).await?;
        Ok((self.io, self.leftover))
    }
}

/// A connection whose request head another server already parsed.
#[derive(Debug)]
pub struct Preparsed<T> {
    parts: Option<Parts>,
    io: T,
    leftover: Bytes,
}

impl<T> Preparsed<T> {
    /// The parsed request, the transport, and any bytes read past the head.
    pub fn new(parts: Parts, io: T, leftover: Bytes) -> Self {
        Preparsed {
            parts: Some(parts),
            io,
            leftover,
        }
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> UpgradeSource for Preparsed<T> {
    type Io = T;

    async fn request(&mut self, _limits: &HeadLimits) -> Result<Parts, HandshakeError> {
        self.parts
            .take()
            .ok_or(HandshakeError::Malformed("request already taken"))
    }

    async fn respond(mut self, response: Response<Bytes>) -> Result<(T, Bytes), HandshakeError> {
        write_response(&mut self.io, &response).await?;
        Ok((self.io, self.leftover))
    }
}
