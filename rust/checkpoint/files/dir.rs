// SPDX-License-Identifier: GPL-2.0

//! Directories: reopened by path (`getdents()` continues from the position).

use super::{checkpoint_path, restore_path, FileOps, OpenFile, S_IFMT};
use crate::{
    ctx::Ctx,
    sys::file::{File, FileInfo},
};
use ckpt_format::{FileKind, FileRecord};
use kernel::{prelude::*, types::ARef};

pub(super) const OPS: FileOps = FileOps {
    kind: FileKind::Directory,
    recognize,
    checkpoint,
    restore,
};

fn recognize(_file: &File, info: &FileInfo) -> bool {
    info.mode & S_IFMT == 0o040000
}

fn checkpoint(ctx: &mut Ctx, of: &OpenFile, info: &FileInfo, objref: i32) -> Result {
    checkpoint_path(ctx, of, info, objref, FileKind::Directory)
}

fn restore(ctx: &mut Ctx, rec: &FileRecord<'_>) -> Result<ARef<File>> {
    restore_path(ctx, rec)
}
