//! Windows `sockets` collector: not written yet.

use crate::collector::{CollectError, Context, Output};

pub(super) fn collect(_ctx: &Context, _out: &mut Output) -> Result<(), CollectError> {
    Err(CollectError::Unsupported)
}
