// SPDX-License-Identifier: GPL-2.0

//! File mappings: the area names its file by objref (the file record is
//! written before the mm record); a private one also saves the pages
//! written since the file was mapped, which are filled after the file is
//! mapped again.

use super::{advise, map_args, unsupported, AreaOps, Areas, Pages};
use crate::{
    ctx::Ctx,
    files::{self, OpenFile},
    sys::{
        mm::{current as mcur, Special, Vma},
        uts,
    },
};
use ckpt_format::{vm, VmaKind, VmaRecord};
use kernel::prelude::*;

pub(super) const OPS: AreaOps = AreaOps {
    kind: VmaKind::File,
    recognize,
    prepare,
    pages,
    restore,
};

/// A file's, or shared anonymous memory's (which maps a file of the
/// kernel's internal mount, a shared object of the files class).
fn recognize(v: &Vma) -> bool {
    matches!(v.special, Special::No | Special::SharedAnon) && v.file.is_some()
}

/// Writes the record of the file, if it was not written yet.
fn prepare(ctx: &mut Ctx, v: &Vma) -> Result<i32> {
    let file = v.file.clone().ok_or(EINVAL)?;
    match files::checkpoint_mapped(ctx, file)? {
        Some(objref) => Ok(objref),
        None => Err(unsupported(ctx, v, "internal file mapping")),
    }
}

fn pages(v: &Vma) -> Pages {
    if v.flags & vm::SHARED == 0 {
        Pages::Anon
    } else {
        Pages::None
    }
}

fn restore(ctx: &mut Ctx, v: &VmaRecord, _areas: &mut Areas) -> Result<bool> {
    // Reopened before the memory was released; mmap() checks that its open
    // mode allows the mapping.
    let file = ctx.fetch::<OpenFile>(v.file_ref)?.file;
    let offset = v
        .pgoff
        .checked_mul(u64::from(uts::page_size()))
        .ok_or(EINVAL)?;
    let shared = v.flags & vm::SHARED != 0;
    let (prot, flags) = map_args(v);
    let flags = flags
        | if shared {
            mcur::MAP_SHARED
        } else {
            mcur::MAP_PRIVATE
        };
    mcur::map(Some(&file), v.start, v.end - v.start, prot, flags, offset)?;
    advise(v)?;
    Ok(!shared)
}
