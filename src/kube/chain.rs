//! Walking an error's causes. kube wraps what went wrong in layers (its own
//! error, hyper's, an `io::Error` around ours), and `io::Error::source()`
//! skips the error it carries; [`chain`] looks inside, so that the budget
//! and connection layers find their own errors however deep kube put them.
//! It imports nothing else of `kube/`, so both can use it.

use std::error::Error as StdError;

/// `err` and its sources, looking inside `io::Error`s (whose `source()`
/// skips the error they wrap).
pub(crate) fn chain<'a>(
    err: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    let mut next: Option<&'a (dyn StdError + 'static)> = Some(err);
    std::iter::from_fn(move || {
        let current = next?;
        next = match current.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn StdError + 'static))
                .or_else(|| current.source()),
            None => current.source(),
        };
        Some(current)
    })
}
