// SPDX-License-Identifier: GPL-2.0

//! The vDSO: its data pages (`[vvar]`) and its text (`[vdso]`) are saved as
//! their places only; at restart the architecture maps this kernel's vDSO
//! there ([`Arch::map_vdso`]), when the text record follows the data one.

use super::{AreaOps, Areas, Pages};
use crate::{
    cpu::{Arch, Native},
    ctx::Ctx,
    sys::mm::{Special, Vma},
};
use ckpt_format::{VmaKind, VmaRecord};
use kernel::prelude::*;

pub(super) const VVAR: AreaOps = AreaOps {
    kind: VmaKind::Vvar,
    recognize: |v: &Vma| v.special == Special::Vvar,
    prepare: |_, _| Ok(0),
    pages: |_| Pages::None,
    restore: restore_vvar,
};

pub(super) const VDSO: AreaOps = AreaOps {
    kind: VmaKind::Vdso,
    recognize: |v: &Vma| v.special == Special::Vdso,
    prepare: |_, _| Ok(0),
    pages: |_| Pages::None,
    restore: restore_vdso,
};

/// Keeps the place of the data pages for the text that follows.
fn restore_vvar(_ctx: &mut Ctx, v: &VmaRecord, areas: &mut Areas) -> Result<bool> {
    areas.vvar = Some((v.start, v.end));
    Ok(false)
}

fn restore_vdso(_ctx: &mut Ctx, v: &VmaRecord, areas: &mut Areas) -> Result<bool> {
    let data = areas.vvar.take().ok_or(EINVAL)?;
    Native::map_vdso(data, (v.start, v.end))?;
    Ok(false)
}
