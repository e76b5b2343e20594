//! Platforms without a `system` implementation yet: record the gap.

use crate::collector::{CollectError, Context, Output};

pub(super) fn collect(_ctx: &Context, out: &mut Output) -> Result<(), CollectError> {
    out.gap("system", "unsupported on this platform");
    Ok(())
}
