// SPDX-License-Identifier: GPL-2.0

//! Regular files: reopened by path, at their position.

use super::{checkpoint_path, restore_path, FileOps, OpenFile, S_IFMT};
use crate::{
    ctx::Ctx,
    sys::file::{File, FileInfo},
};
use ckpt_format::{FileKind, FileRecord};
use kernel::{prelude::*, types::ARef};

pub(super) const OPS: FileOps = FileOps {
    kind: FileKind::Regular,
    recognize,
    checkpoint,
    restore,
};

fn recognize(_file: &File, info: &FileInfo) -> bool {
    info.mode & S_IFMT == 0o100000
}

fn checkpoint(ctx: &mut Ctx, of: &OpenFile, info: &FileInfo, objref: i32) -> Result {
    checkpoint_path(ctx, of, info, objref, FileKind::Regular)
}

fn restore(ctx: &mut Ctx, rec: &FileRecord<'_>) -> Result<ARef<File>> {
    restore_path(ctx, rec)
}
