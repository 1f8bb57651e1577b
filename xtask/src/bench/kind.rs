//! The servers of a bench run: wsup two ways, its peers, and the ceiling.

use crate::runtime::Runtime;

/// The servers of each runtime, in the order of every per-server array of
/// the results and of the table's columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// wsup's `echo` example: `recv_each` relaying each message where it
    /// lies in the read buffer, the echoes of a batch written together.
    Wsup,
    /// wsup with the README's `recv`/`feed` loop (`benches/src/bin/wsup_loop.rs`).
    WsupLoop,
    /// async-tungstenite with the echoes of a batch sharing one flush.
    Baseline,
    /// async-tungstenite with `send`, a flush per message.
    BaselineSend,
    /// fastwebsockets' `echo_server` example, a write per message; tokio only.
    Fastwebsockets,
    Ceiling,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Wsup,
        Kind::WsupLoop,
        Kind::Baseline,
        Kind::BaselineSend,
        Kind::Fastwebsockets,
        Kind::Ceiling,
    ];

    /// Position in `ALL`, and in every per-server array of the results.
    pub const fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Wsup => "wsup",
            Kind::WsupLoop => "wsup, README loop",
            Kind::Baseline => "async-tungstenite, batched",
            Kind::BaselineSend => "async-tungstenite, send",
            Kind::Fastwebsockets => "fastwebsockets",
            Kind::Ceiling => "raw TCP",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Kind::Wsup => "wsup",
            Kind::WsupLoop => "wsup_loop",
            Kind::Baseline => "baseline",
            Kind::BaselineSend => "baseline_send",
            Kind::Fastwebsockets => "fastwebsockets",
            Kind::Ceiling => "ceiling",
        }
    }

    /// Its name in a ratio's column heading (`wsup/send`).
    pub fn short(self) -> &'static str {
        match self {
            Kind::Wsup => "wsup",
            Kind::WsupLoop => "loop",
            Kind::Baseline => "batched",
            Kind::BaselineSend => "send",
            Kind::Fastwebsockets => "fastws",
            Kind::Ceiling => "ceiling",
        }
    }

    /// Whether it runs on `rt`: fastwebsockets is written for tokio alone.
    pub fn runs_on(self, rt: Runtime) -> bool {
        self != Kind::Fastwebsockets || rt == Runtime::Tokio
    }

    /// Whether its memory per idle connection is measured. The README loop
    /// and the `send` baseline hold a connection as the `echo` example and
    /// the batched baseline do until the first message arrives, so they are
    /// not measured again.
    pub fn idle_measured(self) -> bool {
        !matches!(self, Kind::WsupLoop | Kind::BaselineSend)
    }
}
