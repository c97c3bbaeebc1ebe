// SPDX-License-Identifier: GPL-2.0

//! Signalfds: the signals they read, restored into a new signalfd. What it
//! reads, the pending signals, belongs to the task and is restored with it.

use super::{FileOps, Saving};
use crate::{ctx::Ctx, sys::file::File};
use ckpt_format::{FileData, FileKind, FileRecord};
use kernel::{bindings, prelude::*, types::ARef};

pub(super) const OPS: FileOps = FileOps {
    kind: FileKind::Signalfd,
    recognize: |file, _| file.signalfd_mask().is_some(),
    checkpoint,
    restore,
};

fn checkpoint(ctx: &mut Ctx, f: &Saving<'_>) -> Result {
    let mask = f.file.signalfd_mask().ok_or(EINVAL)?;
    f.write(ctx, FileData::Signalfd { mask })
}

fn restore(_ctx: &mut Ctx, rec: &FileRecord<'_>) -> Result<ARef<File>> {
    let FileData::Signalfd { mask } = rec.data else {
        return Err(EINVAL);
    };
    File::new_signalfd(mask, rec.flags & bindings::O_NONBLOCK != 0)
}
