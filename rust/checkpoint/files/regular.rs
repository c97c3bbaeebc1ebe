// SPDX-License-Identifier: GPL-2.0

//! Regular files: reopened by path, at their position.

use super::{checkpoint_path, restore_path, FileOps, S_IFMT};
use ckpt_format::FileKind;

pub(super) const OPS: FileOps = FileOps {
    kind: FileKind::Regular,
    recognize: |_, info| info.mode & S_IFMT == 0o100000,
    checkpoint: checkpoint_path,
    restore: restore_path,
};
