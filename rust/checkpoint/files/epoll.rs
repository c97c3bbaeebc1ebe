// SPDX-License-Identifier: GPL-2.0

//! Epoll files: each watch with the file it watches, the descriptor it was
//! added under, its events and its data, restored into a new epoll file as
//! `epoll_ctl(EPOLL_CTL_ADD)` would add them.
//!
//! The watched files are shared objects written before the epoll's record,
//! so that restart has them when it adds the watches; an epoll watching
//! another writes that one first. Readiness is not saved: adding a watch
//! polls its file again, which finds the events still pending.

use super::{kind_of, unsupported_kind, FileOps, OpenFile, Saving};
use crate::{
    ctx::Ctx,
    sys::{eopnotsupp, file::File},
};
use ckpt_format::{EpollWatch, FileData, FileKind, FileRecord, LeArray, MAX_EPOLL_WATCHES};
use kernel::{prelude::*, types::ARef};

pub(super) const OPS: FileOps = FileOps {
    kind: FileKind::Epoll,
    recognize: |file, _| file.is_epoll(),
    checkpoint,
    restore,
};

fn checkpoint(ctx: &mut Ctx, f: &Saving<'_>) -> Result {
    let objref = f.objref;
    let mut watches = KVVec::new();
    let mut last = None;
    while let Some(w) = f.file.epoll_next_watch(last.as_ref())? {
        if watches.len() == MAX_EPOLL_WATCHES {
            return Err(ctx.fail(
                eopnotsupp(),
                objref,
                format_args!("epoll {objref}: more than {MAX_EPOLL_WATCHES} watches"),
            ));
        }
        let winfo = w.file.info();
        if kind_of(&w.file, &winfo).is_none() {
            return Err(ctx.fail(
                eopnotsupp(),
                objref,
                format_args!(
                    "epoll {objref}: watch on fd {}: {} not supported",
                    w.fd,
                    unsupported_kind(winfo.mode)
                ),
            ));
        }
        let target = ctx.checkpoint_uncounted(&OpenFile {
            file: w.file.clone(),
            mapped_only: false,
        })?;
        watches.push(
            EpollWatch {
                objref: target,
                fd: w.fd,
                events: w.events,
                data: w.data,
            },
            GFP_KERNEL_ACCOUNT,
        )?;
        last = Some(w);
    }
    let data = FileData::Epoll {
        watches: LeArray::Values(&watches),
    };
    f.write(ctx, data)
}

fn restore(ctx: &mut Ctx, rec: &FileRecord<'_>) -> Result<ARef<File>> {
    let FileData::Epoll { watches } = rec.data else {
        return Err(EINVAL);
    };
    let epoll = File::new_epoll()?;
    for w in watches.iter() {
        let target = ctx.fetch::<OpenFile>(w.objref)?;
        epoll
            .epoll_add(&target.file, w.fd, w.events, w.data)
            .inspect_err(|e| {
                ctx.log(format_args!(
                    "file {}: cannot add the watch on file {} as fd {} (errno {})",
                    rec.objref,
                    w.objref,
                    w.fd,
                    -e.to_errno()
                ))
            })?;
    }
    Ok(epoll)
}
