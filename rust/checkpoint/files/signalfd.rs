// SPDX-License-Identifier: GPL-2.0

//! Signalfds: the signals they read, restored into a new signalfd. What it
//! reads, the pending signals, belongs to the task and is restored with it.

use super::{write_record, FileOps, OpenFile};
use crate::{ctx::Ctx, sys::file::File, sys::file::FileInfo};
use ckpt_format::{FileData, FileKind, FileRecord};
use kernel::{bindings, prelude::*, types::ARef};

pub(super) const OPS: FileOps = FileOps {
    kind: FileKind::Signalfd,
    recognize: |file, _| file.signalfd_mask().is_some(),
    checkpoint,
    restore,
};

fn checkpoint(
    ctx: &mut Ctx,
    of: &OpenFile,
    info: &FileInfo,
    kind: FileKind,
    objref: i32,
) -> Result {
    let mask = of.file.signalfd_mask().ok_or(EINVAL)?;
    write_record(
        ctx,
        objref,
        kind,
        info.flags,
        info,
        FileData::Signalfd { mask },
    )
}

fn restore(_ctx: &mut Ctx, rec: &FileRecord<'_>) -> Result<ARef<File>> {
    let FileData::Signalfd { mask } = rec.data else {
        return Err(EINVAL);
    };
    File::new_signalfd(mask, rec.flags & bindings::O_NONBLOCK != 0)
}
