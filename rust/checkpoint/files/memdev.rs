// SPDX-License-Identifier: GPL-2.0

//! The memory character devices with no state of their own: `/dev/null`,
//! `zero`, `random` and `urandom`, reopened by path. The device number is
//! checked at restart, so that the path still names the same device.

use super::{checkpoint_path, restore_path, FileOps, S_IFMT};
use crate::{ctx::Ctx, sys::file::File};
use ckpt_format::{FileKind, FileRecord, MEM_CHAR_DEVICES};
use kernel::{prelude::*, types::ARef};

pub(super) const OPS: FileOps = FileOps {
    kind: FileKind::CharDevice,
    recognize: |_, info| info.mode & S_IFMT == 0o020000 && MEM_CHAR_DEVICES.contains(&info.rdev),
    checkpoint: checkpoint_path,
    restore,
};

fn restore(ctx: &mut Ctx, rec: &FileRecord<'_>) -> Result<ARef<File>> {
    if !MEM_CHAR_DEVICES.contains(&rec.rdev) {
        return Err(EINVAL);
    }
    restore_path(ctx, rec)
}
