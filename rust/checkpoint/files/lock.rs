// SPDX-License-Identifier: GPL-2.0

//! Locks on open files: checkpoint and restore.
//!
//! After its descriptors, a task's records hold the locks taken through
//! their files: `flock()` locks, which belong to the open file (every task
//! that shares the file writes them again, and taking one twice is a
//! no-op), and the POSIX record locks of the task's descriptor table.
//!
//! Restart takes a `flock()` lock when it reads it, with `flock(2)`'s
//! checks; a conflict fails the restart before the caller's memory is
//! released. A POSIX lock is tested then, as `F_GETLK` would, and taken
//! through the task's descriptor once the descriptors replace the
//! caller's, as `fcntl(F_SETLK)` would: closing the caller's descriptors
//! drops the POSIX locks of its table on their files.
//!
//! Open file description locks, leases, and files with a `SIGIO` owner
//! (`F_SETOWN`, or a dnotify watch) are refused, as linux-cr did.

use super::OpenFile;
use crate::{
    ctx::{Ctx, RecordBuf},
    sys::{
        eopnotsupp,
        file::File,
        lock::{Lock, Owner},
        task::Task,
    },
};
use ckpt_format::{LockKind, LockRecord, Record};
use kernel::{prelude::*, types::ARef};

/// Checkpoint: refuses descriptor `fd`'s file if it has what cannot be
/// restored: a `SIGIO` owner.
pub(super) fn check_owner(ctx: &mut Ctx, fd: u32, file: &File) -> Result {
    if file.has_owner() {
        return Err(ctx.fail(
            eopnotsupp(),
            0,
            format_args!("fd {fd}: F_SETOWN owners and dnotify are not supported"),
        ));
    }
    Ok(())
}

/// Checkpoint: writes the locks held through `file` (objref `objref`, open
/// as descriptor `fd`): its own, and the POSIX locks of `task`'s table;
/// counts them in `written`, the task's.
pub(super) fn checkpoint_locks(
    ctx: &mut Ctx,
    task: &Task,
    (fd, objref, file): (u32, i32, &File),
    written: &mut usize,
) -> Result {
    for l in file.locks(Some(task))?.iter() {
        *written += 1;
        if *written > MAX_LOCKS {
            return Err(ctx.fail(
                E2BIG,
                0,
                format_args!("fd {fd}: more than {MAX_LOCKS} locks in the task"),
            ));
        }
        let kind = match l.owner {
            Owner::Flock => LockKind::Flock,
            Owner::Posix => LockKind::Posix,
            Owner::Ofd => return Err(refuse(ctx, fd, "open file description locks")),
            Owner::Lease => return Err(refuse(ctx, fd, "leases")),
        };
        ctx.write_record(&Record::Lock(LockRecord {
            objref,
            kind,
            write: l.write,
            start: l.start,
            end: l.end,
        }))?;
    }
    Ok(())
}

/// Checkpoint: refuses a file that only memory areas hold (no descriptor)
/// and that holds locks: a `flock()` lock with no descriptor to come back
/// through.
pub(super) fn check_unlocked(ctx: &mut Ctx, file: &File, objref: i32) -> Result {
    if !file.locks(None)?.is_empty() {
        return Err(ctx.fail(
            eopnotsupp(),
            objref,
            format_args!("file {objref}: locks on a file no descriptor holds are not supported"),
        ));
    }
    Ok(())
}

fn refuse(ctx: &mut Ctx, fd: u32, what: &str) -> Error {
    ctx.fail(
        eopnotsupp(),
        0,
        format_args!("fd {fd}: {what} are not supported"),
    )
}

/// Most lock records a task may have: an image cannot make restart hold
/// more.
const MAX_LOCKS: usize = 1 << 12;

/// A POSIX lock to take once the descriptors are installed.
pub(crate) struct PosixLock {
    file: ARef<File>,
    lock: Lock,
}

/// Restart: reads the lock records of a task; takes its `flock()` locks
/// and returns its POSIX locks, tested.
pub(super) fn restore_locks(ctx: &mut Ctx, buf: &mut RecordBuf) -> Result<KVec<PosixLock>> {
    let mut posix = KVec::new();
    let mut count = 0;
    while let Some(rec) = ctx.read_if::<LockRecord>(buf)? {
        count += 1;
        if count > MAX_LOCKS {
            ctx.log(format_args!("more than {MAX_LOCKS} locks in a task"));
            return Err(E2BIG);
        }
        let file = ctx.fetch::<OpenFile>(rec.objref)?.file;
        let lock = Lock {
            owner: match rec.kind {
                LockKind::Flock => Owner::Flock,
                LockKind::Posix => Owner::Posix,
            },
            write: rec.write,
            start: rec.start,
            end: rec.end,
        };
        let r = match lock.owner {
            Owner::Posix => file.test_posix_lock(lock.write, lock.start, lock.end),
            _ => file.flock(lock.write),
        };
        if let Err(e) = r {
            ctx.log(format_args!(
                "file {}: cannot take its lock (errno {}): another holds one in the way",
                rec.objref,
                -e.to_errno()
            ));
            return Err(e);
        }
        if lock.owner == Owner::Posix {
            posix.push(PosixLock { file, lock }, GFP_KERNEL_ACCOUNT)?;
        }
    }
    Ok(posix)
}

impl PosixLock {
    /// Takes the lock through descriptor `fd` of the caller, which names
    /// its file.
    pub(super) fn commit(&self, ctx: &mut Ctx, fd: u32) -> Result {
        let l = &self.lock;
        self.file
            .posix_lock(fd, l.write, l.start, l.end)
            .inspect_err(|e| {
                ctx.log(format_args!(
                    "fd {fd}: cannot take its POSIX lock (errno {})",
                    -e.to_errno()
                ))
            })
    }

    /// The file it locks.
    pub(super) fn file(&self) -> &File {
        &self.file
    }
}
