// SPDX-License-Identifier: GPL-2.0

//! Directories: reopened by path; `getdents()` goes on from the position.

use super::{checkpoint_path, restore_path, FileOps, S_IFMT};
use ckpt_format::FileKind;

pub(super) const OPS: FileOps = FileOps {
    kind: FileKind::Directory,
    recognize: |_, info| info.mode & S_IFMT == 0o040000,
    checkpoint: checkpoint_path,
    restore: restore_path,
};
