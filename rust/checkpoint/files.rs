// SPDX-License-Identifier: GPL-2.0

//! Open files and descriptors: checkpoint and restore.
//!
//! An open file is a shared object: a file record (kind, open flags,
//! position, path) is written the first time a descriptor refers to it, then
//! one fd record per descriptor names it by objref, so that descriptors made
//! by `dup()` share one file again after restart.
//!
//! Regular files, directories and the memory character devices (`/dev/null`,
//! `zero`, `random`, `urandom`) are supported. Any other kind of descriptor
//! fails the checkpoint with `EOPNOTSUPP` and an error record naming it.
//!
//! Regular files that the task maps get a file record too, without a
//! descriptor. At restart, files are reopened by path as the caller, when
//! their records are read, before the caller's memory is released, so that
//! a missing file fails the restart cleanly; file mappings use them. The
//! descriptors replace the caller's at the end.

use crate::{
    ctx::Ctx,
    objhash::Obj,
    sys::{
        cred::Cred,
        eopnotsupp,
        file::{close_all_fds, File},
        mm::{Mm, Special},
        task::{current, Task},
    },
};
use ckpt_format::{FdRecord, FileKind, FileRecord, Record, MAX_PATH, MEM_CHAR_DEVICES};
use kernel::{prelude::*, str::BStr, types::ARef};

const S_IFMT: u32 = 0o170000;

/// The open flags kept for a file that is only mapped: `O_ACCMODE` and
/// `O_LARGEFILE`.
const MAPPED_FLAGS: u32 = 0o3 | 0o100000;

/// Names the kind of a file that cannot be checkpointed, from its mode.
fn unsupported_kind(mode: u32) -> &'static str {
    match mode & S_IFMT {
        0o010000 => "pipe",
        0o140000 => "socket",
        0o020000 => "character device",
        0o060000 => "block device",
        0o120000 => "symbolic link",
        // Anonymous inodes have no file type.
        0 => "anonymous inode (eventfd, epoll, signalfd, timerfd, ...)",
        _ => "special file",
    }
}

/// Writes the descriptors of `task` and the files they refer to.
pub(crate) fn checkpoint_files(ctx: &mut Ctx, task: &Task, pid: i32) -> Result {
    let mut buf = KVec::from_elem(0u8, MAX_PATH + 1, GFP_KERNEL_ACCOUNT)?;
    let mut from = 0;
    let mut count = 0;
    while let Some((fd, file, cloexec)) = File::next_of_task(task, from) {
        let objref = checkpoint_file(ctx, task, file, fd, &mut buf)?;
        ctx.write_record(&Record::Fd(FdRecord {
            // CAST: descriptors are below `INT_MAX` (`sysctl_nr_open`).
            fd: fd as i32,
            objref,
            cloexec,
        }))?;
        count += 1;
        from = fd + 1;
    }
    let mapped = checkpoint_mapped_files(ctx, task, &mut buf)?;
    ctx.log(format_args!(
        "pid {pid}: {count} descriptors, {mapped} more mapped files"
    ));
    Ok(())
}

/// Writes a file record for each regular file that `task` maps and that no
/// descriptor holds, so that restart reopens them all before it releases
/// the caller's memory. Mappings that cannot be saved are left to the
/// memory records, which refuse them.
fn checkpoint_mapped_files(ctx: &mut Ctx, task: &Task, buf: &mut [u8]) -> Result<usize> {
    let Some(mm) = Mm::of_task(task) else {
        return Ok(0);
    };
    let mut files = KVec::new();
    if let Some(exe) = mm.exe_file() {
        files.push(exe, GFP_KERNEL_ACCOUNT)?;
    }
    {
        let guard = mm.read_lock();
        let mut addr = 0;
        while let Some(v) = guard.vma_from(addr) {
            addr = v.end;
            if let (Special::No, Some(f)) = (v.special, v.file) {
                files.push(f, GFP_KERNEL_ACCOUNT)?;
            }
        }
    }
    let mut written = 0;
    for file in files {
        let info = file.info();
        if info.mode & S_IFMT != 0o100000 {
            continue;
        }
        let Ok(path) = file.path(buf) else {
            continue;
        };
        if path.ends_with(b" (deleted)") || !path.starts_with(b"/") {
            continue;
        }
        let found = ctx.objhash.lookup_add(Obj::File(file))?;
        if found.first {
            ctx.write_record(&Record::File(FileRecord {
                objref: found.objref,
                kind: FileKind::Regular,
                // Only what a mapping needs: no descriptor shows the rest
                // (exec's and the loader's O_NOATIME, say), which the
                // task's user might not be allowed to reopen with.
                flags: info.flags & MAPPED_FLAGS,
                mode: info.mode,
                rdev: 0,
                pos: info.pos,
                path,
            }))?;
            written += 1;
        }
    }
    Ok(written)
}

/// Writes `file` (descriptor `fd`) if it was not written yet; returns its
/// objref.
fn checkpoint_file(
    ctx: &mut Ctx,
    task: &Task,
    file: ARef<File>,
    fd: u32,
    buf: &mut [u8],
) -> Result<i32> {
    let info = file.info();
    let kind = match info.mode & S_IFMT {
        0o100000 => FileKind::Regular,
        0o040000 => FileKind::Directory,
        0o020000 if MEM_CHAR_DEVICES.contains(&info.rdev) => FileKind::CharDevice,
        _ => {
            return Err(ctx.fail(
                eopnotsupp(),
                0,
                format_args!("fd {fd}: {} not supported", unsupported_kind(info.mode)),
            ))
        }
    };
    let path = match file.path(buf) {
        Ok(p) => p,
        Err(e) => return Err(ctx.fail(e, 0, format_args!("fd {fd}: no path for its file"))),
    };
    if path.ends_with(b" (deleted)") || !path.starts_with(b"/") {
        return Err(ctx.fail(
            eopnotsupp(),
            0,
            format_args!("fd {fd}: unlinked or internal file not supported"),
        ));
    }
    if file.locked_by(task) {
        return Err(ctx.fail(
            eopnotsupp(),
            0,
            format_args!("fd {fd}: file locks and leases are not supported yet"),
        ));
    }
    let found = ctx.objhash.lookup_add(Obj::File(file))?;
    if found.first {
        ctx.write_record(&Record::File(FileRecord {
            objref: found.objref,
            kind,
            flags: info.flags,
            mode: info.mode,
            rdev: info.rdev,
            pos: info.pos,
            path,
        }))?;
    }
    Ok(found.objref)
}

/// The descriptors restart installs once the image is read.
pub(crate) struct Fds(KVec<(u32, ARef<File>, bool)>);

impl Fds {
    pub(crate) fn new() -> Self {
        Self(KVec::new())
    }

    /// Replaces all the caller's descriptors with those of the image.
    pub(crate) fn install(&self, ctx: &mut Ctx) -> Result {
        close_all_fds();
        for (fd, file, cloexec) in &self.0 {
            if let Err(e) = file.install(*fd, *cloexec) {
                ctx.log(format_args!(
                    "fd {fd}: cannot install (errno {})",
                    -e.to_errno()
                ));
                return Err(e);
            }
        }
        Ok(())
    }
}

/// The files restart reopened, by path, for the file mappings of the image.
pub(crate) struct Reopened(KVec<(KVec<u8>, u32, ARef<File>)>);

impl Reopened {
    pub(crate) fn new() -> Self {
        Self(KVec::new())
    }

    /// Returns a file reopened from `path` that can back a mapping: open for
    /// reading, and for writing too if `write`.
    pub(crate) fn find(&self, path: &[u8], write: bool) -> Option<ARef<File>> {
        const O_ACCMODE: u32 = 3;
        const O_RDONLY: u32 = 0;
        const O_RDWR: u32 = 2;
        const O_PATH: u32 = 0o10000000;
        let ok = |flags: u32| {
            let acc = flags & O_ACCMODE;
            flags & O_PATH == 0 && (acc == O_RDWR || (!write && acc == O_RDONLY))
        };
        self.0
            .iter()
            .find(|(p, flags, _)| p.as_slice() == path && ok(*flags))
            .map(|(_, _, f)| f.clone())
    }
}

/// Reopens a file from its record.
pub(crate) fn restore_file(
    ctx: &mut Ctx,
    rec: &FileRecord<'_>,
    cred: Option<&Cred>,
    reopened: &mut Reopened,
) -> Result {
    // Each record holds an open file until the end: as many as the caller
    // may have open.
    ctx.files_open += 1;
    if ctx.files_open > current::nofile_limit() {
        ctx.log(format_args!(
            "file {}: more files than RLIMIT_NOFILE ({})",
            rec.objref,
            current::nofile_limit()
        ));
        return Err(EMFILE);
    }
    // With the credentials of the task being restored: a restart never
    // opens a file that the image's user could not. The stream check puts
    // the task record first; never fall back to the caller's.
    let cred = cred.ok_or(EINVAL)?;
    let file = match File::open(rec.path, rec.flags, rec.pos, Some(cred)) {
        Ok(f) => f,
        Err(e) => {
            ctx.log(format_args!(
                "file {}: cannot reopen {} at {} (errno {})",
                rec.objref,
                BStr::from_bytes(rec.path),
                rec.pos,
                -e.to_errno()
            ));
            return Err(e);
        }
    };
    // The path may now name something else.
    let info = file.info();
    if info.mode & S_IFMT != rec.mode & S_IFMT || info.rdev != rec.rdev {
        ctx.log(format_args!(
            "file {}: {} is no longer a {} file",
            rec.objref,
            BStr::from_bytes(rec.path),
            rec.kind.name()
        ));
        return Err(EINVAL);
    }
    if rec.kind == FileKind::Regular {
        let mut p = KVec::with_capacity(rec.path.len(), GFP_KERNEL_ACCOUNT)?;
        p.extend_from_slice(rec.path, GFP_KERNEL_ACCOUNT)?;
        reopened
            .0
            .push((p, rec.flags, file.clone()), GFP_KERNEL_ACCOUNT)?;
    }
    ctx.objhash.set(rec.objref, Obj::File(file))
}

/// Records a descriptor, installed by [`Fds::install`].
pub(crate) fn restore_fd(ctx: &mut Ctx, rec: &FdRecord, fds: &mut Fds) -> Result {
    // Descriptors come in increasing order: this bounds their count too.
    // CAST: the format refuses negative descriptors.
    if rec.fd as u64 >= current::nofile_limit() {
        ctx.log(format_args!(
            "fd {}: beyond RLIMIT_NOFILE ({})",
            rec.fd,
            current::nofile_limit()
        ));
        return Err(EMFILE);
    }
    // The stream check has made sure the objref names a file record.
    let file = ctx.objhash.file(rec.objref).ok_or(EINVAL)?;
    // CAST: the format refuses negative descriptors.
    fds.0
        .push((rec.fd as u32, file, rec.cloexec), GFP_KERNEL_ACCOUNT)?;
    Ok(())
}
