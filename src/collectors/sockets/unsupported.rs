//! Platforms without a `sockets` implementation: the run records it as a gap.

use crate::collector::{CollectError, Context, Output};

pub(super) fn collect(_ctx: &Context, _out: &mut Output) -> Result<(), CollectError> {
    Err(CollectError::Unsupported)
}
