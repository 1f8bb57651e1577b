//! [`Opaque`]: a field that `Debug` output names but does not show.

use std::fmt;

/// A value, such as a closure or a future, that has no useful `Debug`
/// form: a struct holding one can still derive `Debug`, which shows it as
/// `..`.
#[derive(Clone)]
pub(crate) struct Opaque<T>(pub(crate) T);

impl<T> fmt::Debug for Opaque<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("..")
    }
}
