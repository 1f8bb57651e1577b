//! The runtimes the examples and the bench servers are built for, and the
//! `--runtime` choice of the subcommands.

/// A runtime the `echo` example and the bench servers can be built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    Tokio,
    Smol,
    AsyncStd,
}

impl Runtime {
    pub const ALL: [Runtime; 3] = [Runtime::Tokio, Runtime::Smol, Runtime::AsyncStd];

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|rt| rt.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Runtime::Tokio => "tokio",
            Runtime::Smol => "smol",
            Runtime::AsyncStd => "async-std",
        }
    }

    /// Its feature in `examples/Cargo.toml`.
    pub fn feature(self) -> String {
        format!("runtime-{}", self.name())
    }
}

/// Which runtimes to run: the value of `--runtime`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    One(Runtime),
    /// `all`: every runtime (for `conformance` and `interop`, every one the
    /// examples package has a feature for).
    All,
}

impl Selection {
    /// `tokio`, `smol`, `async-std` or `all`.
    pub fn parse(name: &str) -> Result<Self, String> {
        match name {
            "all" => Ok(Selection::All),
            _ => Runtime::from_name(name)
                .map(Selection::One)
                .ok_or_else(|| format!("unknown runtime `{name}`")),
        }
    }
}
