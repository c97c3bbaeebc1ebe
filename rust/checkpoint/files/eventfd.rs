// SPDX-License-Identifier: GPL-2.0

//! Eventfds: the counter and the `EFD_SEMAPHORE` flag, restored into a new
//! eventfd.

use super::{FileOps, Saving};
use crate::{ctx::Ctx, sys::file::File};
use ckpt_format::{FileData, FileKind, FileRecord};
use kernel::{bindings, prelude::*, types::ARef};

pub(super) const OPS: FileOps = FileOps {
    kind: FileKind::Eventfd,
    recognize: |file, _| file.eventfd_state().is_some(),
    checkpoint,
    restore,
};

fn checkpoint(ctx: &mut Ctx, f: &Saving<'_>) -> Result {
    let (count, semaphore) = f.file.eventfd_state().ok_or(EINVAL)?;
    f.write(ctx, FileData::Eventfd { count, semaphore })
}

fn restore(_ctx: &mut Ctx, rec: &FileRecord<'_>) -> Result<ARef<File>> {
    let FileData::Eventfd { count, semaphore } = rec.data else {
        return Err(EINVAL);
    };
    File::new_eventfd(count, semaphore, rec.flags & bindings::O_NONBLOCK != 0)
}
