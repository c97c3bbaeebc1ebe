// SPDX-License-Identifier: GPL-2.0

//! Private anonymous memory (heap, stacks, `MAP_PRIVATE | MAP_ANONYMOUS`):
//! every populated page is saved, and the area is mapped anew and filled.

use super::{advise, map_args, AreaOps, Areas, Pages};
use crate::{
    ctx::Ctx,
    sys::mm::{current as mcur, Special, Vma},
};
use ckpt_format::{vm, VmaKind, VmaRecord};
use kernel::prelude::*;

pub(super) const OPS: AreaOps = AreaOps {
    kind: VmaKind::Anon,
    recognize,
    prepare: |_, _| Ok(0),
    pages: |_| Pages::All,
    restore,
};

fn recognize(v: &Vma) -> bool {
    v.special == Special::No && v.file.is_none() && v.flags & vm::SHARED == 0
}

fn restore(_ctx: &mut Ctx, v: &VmaRecord, _areas: &mut Areas) -> Result<bool> {
    if v.flags & vm::SHARED != 0 {
        return Err(EINVAL);
    }
    let (prot, flags) = map_args(v);
    let flags = flags | mcur::MAP_PRIVATE | mcur::MAP_ANONYMOUS;
    mcur::map(None, v.start, v.end - v.start, prot, flags, 0)?;
    advise(v)?;
    Ok(true)
}
