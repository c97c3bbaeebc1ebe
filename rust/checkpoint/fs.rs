// SPDX-License-Identifier: GPL-2.0

//! Root and working directories (a task's `fs_struct`): checkpoint and
//! restore.
//!
//! Both are saved as paths seen from the checkpointer's root, and reopened
//! at restart (`O_PATH`) with the credentials of the task being restored,
//! which must be allowed to enter them: search permission, and
//! `CAP_SYS_CHROOT` for a root other than the caller's. They are set at
//! the end. The umask is part of the signals record.

use crate::{
    ctx::{Ctx, RecordBuf},
    objhash::Shared,
    sys::{
        eopnotsupp,
        file::{File, FsStruct},
        task::{current, Task},
    },
};
use ckpt_format::{stream::ObjKind, FsRecord, Record, MAX_PATH};
use kernel::{prelude::*, str::BStr, types::ARef};

/// `O_PATH | O_DIRECTORY`.
const O_PATH_DIR: u32 = 0o10000000 | 0o200000;

/// An fs that processes share (`clone(CLONE_FS)`): an object of the hash,
/// which their objs records name.
impl Shared for ARef<FsStruct> {
    const KIND: ObjKind = ObjKind::Fs;

    fn addr(&self) -> usize {
        FsStruct::addr(self)
    }

    /// One user is the hash's; each task that uses it is one.
    fn kernel_refs(&self) -> Option<u64> {
        Some(self.users().saturating_sub(1))
    }
}

/// Writes the fs record of `task`.
pub(crate) fn checkpoint_fs(ctx: &mut Ctx, task: &Task, pid: i32) -> Result {
    let mut root = KVec::from_elem(0u8, MAX_PATH + 1, GFP_KERNEL_ACCOUNT)?;
    let mut cwd = KVec::from_elem(0u8, MAX_PATH + 1, GFP_KERNEL_ACCOUNT)?;
    let (root, cwd) = match task.fs_paths(&mut root, &mut cwd) {
        Ok(p) => p,
        Err(e) => {
            return Err(ctx.fail(
                e,
                0,
                format_args!("pid {pid}: no path for its root or working directory"),
            ))
        }
    };
    for (what, p) in [("root", root), ("working directory", cwd)] {
        if !p.starts_with(b"/") || p.ends_with(b" (deleted)") {
            return Err(ctx.fail(
                eopnotsupp(),
                0,
                format_args!("pid {pid}: its {what} is deleted or out of reach"),
            ));
        }
    }
    ctx.write_record(&Record::Fs(FsRecord { root, cwd }))
}

/// The directories restart sets at the end.
pub(crate) struct FsState {
    root: Option<ARef<File>>,
    cwd: ARef<File>,
}

/// Reads the fs record of a task and reopens its directories, checking
/// that the task being restored may enter them.
pub(crate) fn restore_fs(ctx: &mut Ctx, buf: &mut RecordBuf) -> Result<FsState> {
    let rec = ctx.read::<FsRecord<'_>>(buf)?;
    let cred = ctx.task_cred.clone().ok_or(EINVAL)?;
    let open = |ctx: &mut Ctx, path: &[u8], root: bool| -> Result<ARef<File>> {
        let r = File::open(path, O_PATH_DIR, 0, Some(&cred));
        let r = r.and_then(|d| d.may_enter(&cred, root).map(|()| d));
        r.inspect_err(|e| {
            ctx.log(format_args!(
                "fs: cannot enter {} (errno {})",
                BStr::from_bytes(path),
                -e.to_errno()
            ))
        })
    };
    // "/" is the restorer's own root: nothing to change.
    let root = match rec.root {
        b"/" => None,
        r => Some(open(ctx, r, true)?),
    };
    let cwd = open(ctx, rec.cwd, false)?;
    Ok(FsState { root, cwd })
}

impl FsState {
    /// Sets the root and working directories of the caller.
    pub(crate) fn commit(&self) {
        current::set_fs(self.root.as_deref(), &self.cwd);
    }
}
