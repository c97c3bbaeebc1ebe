// SPDX-License-Identifier: GPL-2.0

//! FIFOs: files open on a named pipe, found again by its path.
//!
//! The FIFO's pipe is a shared object ([`Pipe`]) whose record holds its
//! path, its size and the data buffered in it. Each file open on it names
//! it by objref. Restart opens the FIFO for reading and writing (which
//! never blocks) and refills it, then opens each file on it with its flags
//! and `O_NONBLOCK`, which cannot block either while that first file holds
//! both ends, and gives each its own `O_NONBLOCK` back. Unlike an
//! anonymous pipe, a FIFO may have openers outside the image: anyone may
//! open it by its path.

use super::{reopen_held, FileOps, Pipe, Saving, S_IFMT};
use crate::{ctx::Ctx, sys::file::File};
use ckpt_format::{FileData, FileKind, FileRecord};
use kernel::{bindings, prelude::*, types::ARef};

pub(super) const OPS: FileOps = FileOps {
    kind: FileKind::Fifo,
    recognize: |file, info| info.mode & S_IFMT == 0o010000 && file.fifo().is_some(),
    checkpoint,
    restore,
};

fn checkpoint(ctx: &mut Ctx, f: &Saving<'_>) -> Result {
    let pipe = ctx.checkpoint_obj(&Pipe::Seen(f.file.clone()))?;
    f.write(ctx, FileData::Pipe { pipe })
}

fn restore(ctx: &mut Ctx, rec: &FileRecord<'_>) -> Result<ARef<File>> {
    let FileData::Pipe { pipe } = rec.data else {
        return Err(EINVAL);
    };
    let Pipe::Fifo(fifo) = ctx.fetch::<Pipe>(pipe)? else {
        return Err(EINVAL);
    };
    let flags = rec.flags | bindings::O_NONBLOCK;
    let file = reopen_held(ctx, rec, &fifo, (flags, 0), ("fifo", pipe))?;
    file.set_nonblock(rec.flags & bindings::O_NONBLOCK != 0);
    Ok(file)
}
