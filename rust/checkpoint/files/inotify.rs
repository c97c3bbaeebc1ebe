// SPDX-License-Identifier: GPL-2.0

//! Inotify files: each watch with its watch descriptor, its mask and the
//! path of the inode it watches, restored into a new inotify file as
//! `inotify_add_watch()` would add them, each under its own wd (patch
//! 0019), which the program holds and finds in the events it reads.
//!
//! A watch names an inode, not a path: checkpoint names it by a path
//! through a mount of the checkpointer's namespace that shows it, and
//! refuses an inode with no such path (unlinked, or out of reach of the
//! checkpointer's root). Restart looks the path up and checks it as the
//! task being restored, so that a watch needs read permission on the
//! inode, as `inotify_add_watch()` does. The events the file holds unread
//! are saved as `read()` would give them (at most
//! [`MAX_INOTIFY_BYTES`]), and queued again after the watches.

use super::{FileOps, Saving};
use crate::{
    ctx::Ctx,
    sys::{eopnotsupp, file::File},
};
use ckpt_format::{
    FileData, FileKind, FileRecord, InotifyEvent, InotifyWatch, MAX_INOTIFY_BYTES,
    MAX_INOTIFY_WATCHES, MAX_PATH,
};
use kernel::{bindings, prelude::*, str::BStr, types::ARef};

pub(super) const OPS: FileOps = FileOps {
    kind: FileKind::Inotify,
    recognize: |file, _| file.is_inotify(),
    checkpoint,
    restore,
};

fn checkpoint(ctx: &mut Ctx, f: &Saving<'_>) -> Result {
    let objref = f.objref;
    let mut events = KVVec::from_elem(0u8, MAX_INOTIFY_BYTES, GFP_KERNEL_ACCOUNT)?;
    let len = f.file.inotify_events(&mut events).map_err(|e| {
        ctx.fail(
            e,
            objref,
            format_args!("inotify {objref}: more than {MAX_INOTIFY_BYTES} bytes of events queued"),
        )
    })?;
    let mut path = KVec::from_elem(0u8, MAX_PATH + 1, GFP_KERNEL_ACCOUNT)?;
    let mut watches = KVVec::new();
    let (mut count, mut from) = (0u32, 1);
    loop {
        let found = f.file.inotify_next_watch(from, &mut path).map_err(|e| {
            ctx.fail(
                e,
                objref,
                format_args!(
                    "inotify {objref}: watch after wd {}: its inode is unlinked or out of reach",
                    from - 1
                ),
            )
        })?;
        let Some(watch) = found else { break };
        let at = watches.len();
        let len = watch.encoded_len();
        if count as usize == MAX_INOTIFY_WATCHES || at + len > MAX_INOTIFY_BYTES {
            return Err(ctx.fail(
                eopnotsupp(),
                objref,
                format_args!(
                    "inotify {objref}: more than {MAX_INOTIFY_WATCHES} watches or {MAX_INOTIFY_BYTES} bytes of paths"
                ),
            ));
        }
        watches.extend_with(len, 0u8, GFP_KERNEL_ACCOUNT)?;
        watch.write(&mut watches[at..]).map_err(|_| EINVAL)?;
        count += 1;
        from = watch.wd.checked_add(1).ok_or(EINVAL)?;
    }
    f.write(
        ctx,
        FileData::Inotify {
            count,
            watches: &watches,
            events: &events[..len],
        },
    )
}

fn restore(ctx: &mut Ctx, rec: &FileRecord<'_>) -> Result<ARef<File>> {
    let FileData::Inotify {
        watches, events, ..
    } = rec.data
    else {
        return Err(EINVAL);
    };
    let cred = ctx.task_cred.clone().ok_or(EINVAL)?;
    let file = File::new_inotify(rec.flags & bindings::O_NONBLOCK != 0)?;
    for w in InotifyWatch::iter(watches) {
        let w = w.map_err(|_| EINVAL)?;
        file.inotify_add(&w, &cred).inspect_err(|e| {
            ctx.log(format_args!(
                "file {}: cannot add watch {} on {} (errno {})",
                rec.objref,
                w.wd,
                BStr::from_bytes(w.path),
                -e.to_errno()
            ))
        })?;
    }
    for e in InotifyEvent::iter(events) {
        let e = e.map_err(|_| EINVAL)?;
        file.inotify_queue(e.wd, e.mask, e.cookie, e.name)
            .inspect_err(|err| {
                ctx.log(format_args!(
                    "file {}: cannot queue an event of wd {} (errno {})",
                    rec.objref,
                    e.wd,
                    -err.to_errno()
                ))
            })?;
    }
    Ok(file)
}
