// SPDX-License-Identifier: GPL-2.0

//! Pipes: both ends, the data buffered in them, and the pipe's size.
//!
//! A pipe is a shared object ([`Pipe`]) of its two ends: the file record of
//! its first end is preceded by a pipe record with the buffered bytes, read
//! without consuming them; each end's record names it by objref. Restart
//! makes a new pipe of the same size holding the same bytes, and each end's
//! record takes its end of it. An end that no record takes is closed, as it
//! was at checkpoint.
//!
//! A FIFO is the same pipe object, reached through a file open on it, and
//! its record holds its path too (`fifo.rs`). Restart opens the FIFO for
//! reading and writing, which never blocks, refills it, and keeps it open
//! until the files on it are open.
//!
//! A pipe whose other end is open outside the image cannot come back
//! connected, so checkpoint refuses it: once every descriptor is written, a
//! deferred check compares the ends the image holds with the pipe's open
//! files.

use super::{check_users, defer_users_check, saved_path, FileOps, Saving};
use crate::{
    ctx::Ctx,
    objhash::{Object, Shared},
    sys::{eopnotsupp, file::File},
};
use ckpt_format::{
    stream::ObjKind, FileData, FileKind, FileRecord, PipeRecord, Record, MAX_PATH, MAX_PIPE_DATA,
};
use kernel::{bindings, prelude::*, str::BStr, types::ARef};

pub(super) const OPS: FileOps = FileOps {
    kind: FileKind::Pipe,
    recognize: |file, _| file.pipe().is_some(),
    checkpoint,
    restore,
};

/// `O_ACCMODE`.
const O_ACCMODE: u32 = 0o3;

/// A pipe, the shared object of a pipe record.
#[derive(Clone)]
pub(crate) enum Pipe {
    /// Checkpoint: the pipe, reached through one of its ends (or a file
    /// open on its FIFO).
    Seen(ARef<File>),
    /// Restart: both ends of the new pipe.
    Restored { read: ARef<File>, write: ARef<File> },
    /// Restart: a FIFO, open for reading and writing so that it holds its
    /// data until its files are open.
    Fifo(ARef<File>),
}

impl Shared for Pipe {
    const KIND: ObjKind = ObjKind::Pipe;

    fn addr(&self) -> usize {
        match self {
            Pipe::Seen(end) => end.pipe().or_else(|| end.fifo()).unwrap_or(0),
            Pipe::Restored { read, .. } => read.addr(),
            Pipe::Fifo(file) => file.addr(),
        }
    }

    fn holds(&self) -> Option<usize> {
        match self {
            Pipe::Seen(end) => Some(end.addr()),
            _ => None,
        }
    }
}

impl Object for Pipe {
    type Record<'a> = PipeRecord<'a>;

    fn checkpoint(&self, ctx: &mut Ctx, objref: i32) -> Result {
        let Pipe::Seen(end) = self else {
            return Err(EINVAL);
        };
        // Most pipes are empty: look first, then copy what is there.
        let mut data = KVVec::new();
        let (len, st) = match end.pipe_peek(&mut data) {
            Err(e) if e == E2BIG => {
                data = KVVec::from_elem(0u8, MAX_PIPE_DATA, GFP_KERNEL_ACCOUNT)?;
                end.pipe_peek(&mut data)
            }
            r => r,
        }
        .map_err(|e| {
            let why = if e == E2BIG {
                "more than 1 MiB buffered"
            } else if e == eopnotsupp() {
                "packet-mode and notification pipes are not supported"
            } else {
                "cannot read its data"
            };
            ctx.fail(e, objref, format_args!("pipe {objref}: {why}"))
        })?;
        // A FIFO is found again by its path.
        let mut buf = KVec::new();
        if end.fifo().is_some() {
            buf.extend_with(MAX_PATH + 1, 0u8, GFP_KERNEL_ACCOUNT)?;
        }
        let fifo: &[u8] = if buf.is_empty() {
            &[]
        } else {
            saved_path(end, &mut buf).map_err(|e| {
                ctx.fail(
                    e,
                    objref,
                    format_args!("fifo {objref}: unlinked, or with no path"),
                )
            })?
        };
        ctx.write_record(&Record::Pipe(PipeRecord {
            objref,
            size: st.size,
            data: &data[..len],
            fifo,
        }))?;
        // Anyone may open a FIFO; an anonymous pipe's ends are all known.
        if fifo.is_empty() {
            defer_users_check(ctx, check_ends, objref, st.ends.into())?;
        }
        Ok(())
    }

    fn objref(rec: &PipeRecord<'_>) -> i32 {
        rec.objref
    }

    fn restore(ctx: &mut Ctx, rec: &PipeRecord<'_>) -> Result<Self> {
        if !rec.fifo.is_empty() {
            let cred = ctx.task_cred.clone().ok_or(EINVAL)?;
            return File::open_fifo(rec.fifo, rec.size, rec.data, &cred)
                .map(Pipe::Fifo)
                .inspect_err(|e| {
                    ctx.log(format_args!(
                        "fifo {}: cannot open {} to refill it (errno {})",
                        rec.objref,
                        BStr::from_bytes(rec.fifo),
                        -e.to_errno()
                    ))
                });
        }
        let (read, write) = File::new_pipe(rec.size, rec.data).inspect_err(|e| {
            ctx.log(format_args!(
                "pipe {}: cannot make a pipe of {} bytes (errno {})",
                rec.objref,
                rec.size,
                -e.to_errno()
            ))
        })?;
        Ok(Pipe::Restored { read, write })
    }
}

/// Deferred: refuses a pipe with fewer ends in the image than open ends.
fn check_ends(ctx: &mut Ctx, arg: u64) -> Result {
    check_users(ctx, arg, ("pipe", "open ends"))
}

fn checkpoint(ctx: &mut Ctx, f: &Saving<'_>) -> Result {
    let objref = f.objref;
    if !matches!(f.info.flags & O_ACCMODE, 0 | 1) {
        return Err(ctx.fail(
            eopnotsupp(),
            objref,
            format_args!("file {objref}: a pipe open for reading and writing"),
        ));
    }
    let pipe = ctx.checkpoint_obj(&Pipe::Seen(f.file.clone()))?;
    f.write(ctx, FileData::Pipe { pipe })
}

fn restore(ctx: &mut Ctx, rec: &FileRecord<'_>) -> Result<ARef<File>> {
    let FileData::Pipe { pipe } = rec.data else {
        return Err(EINVAL);
    };
    let Pipe::Restored { read, write } = ctx.fetch::<Pipe>(pipe)? else {
        return Err(EINVAL);
    };
    let end = if rec.flags & O_ACCMODE == 0 {
        read
    } else {
        write
    };
    end.set_nonblock(rec.flags & bindings::O_NONBLOCK != 0);
    Ok(end)
}
