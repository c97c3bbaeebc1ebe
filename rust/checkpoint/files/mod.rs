// SPDX-License-Identifier: GPL-2.0

//! Open files and descriptors: checkpoint and restore.
//!
//! An open file is a shared object ([`OpenFile`]): a file record is written
//! the first time a descriptor or a memory area refers to it, then each
//! descriptor names it by objref in its fd record, so that descriptors made
//! by `dup()` share one file again after restart, and memory areas name it
//! in their vma records.
//!
//! Each kind of file is a module with a [`FileOps`] table, the Rust form of
//! linux-cr's `f_op->checkpoint` and `f_op->restore`; [`KINDS`] lists them.
//! A file of no listed kind fails the checkpoint with `EOPNOTSUPP` and an
//! error record naming it.
//!
//! At restart, files are reopened with the credentials of the task being
//! restored when their records are read, before the caller's memory is
//! released, so that a missing file fails the restart cleanly. The
//! descriptors replace the caller's at the end.

mod dir;
mod epoll;
mod eventfd;
mod fifo;
mod inotify;
mod lock;
mod memdev;
mod pipe;
mod regular;
mod shmem;
mod signalfd;
mod timerfd;
mod unlinked;

pub(crate) use pipe::Pipe;
pub(crate) use shmem::Shmem;
pub(crate) use unlinked::Unlinked;

use crate::{
    ctx::{Ctx, RecordBuf},
    objhash::{Object, Shared},
    sys::{
        eopnotsupp,
        file::{close_all_fds, FdTable, File, FileInfo},
        task::{current, Task},
    },
};
use ckpt_format::{
    head_len, stream::ObjKind, ContentsRecord, FdRecord, FileData, FileKind, FileRecord, Record,
    MAX_PATH, MAX_UNLINKED,
};
use kernel::{prelude::*, str::BStr, types::ARef};

/// The file-type bits of `i_mode`.
const S_IFMT: u32 = 0o170000;

/// One kind of file, and how it is checkpointed and restored.
pub(crate) struct FileOps {
    /// The kind in the image.
    kind: FileKind,
    /// Whether an open file is of this kind.
    recognize: fn(&File, &FileInfo) -> bool,
    /// Writes the record of a file of this kind.
    checkpoint: fn(&mut Ctx, &Saving<'_>) -> Result,
    /// Reopens a file of this kind from its record.
    restore: fn(&mut Ctx, &FileRecord<'_>) -> Result<ARef<File>>,
}

/// The kinds of files that can be checkpointed: one line per kind.
const KINDS: &[&FileOps] = &[
    // Before `unlinked` and `regular`: a memfd is an unlinked regular file.
    &shmem::OPS,
    // Before `regular`: an unlinked file is regular too.
    &unlinked::OPS,
    &regular::OPS,
    &dir::OPS,
    &memdev::OPS,
    &eventfd::OPS,
    &signalfd::OPS,
    &timerfd::OPS,
    &epoll::OPS,
    &inotify::OPS,
    &pipe::OPS,
    &fifo::OPS,
];

/// Returns the ops of the kind of `file`.
fn kind_of(file: &File, info: &FileInfo) -> Option<&'static FileOps> {
    KINDS.iter().copied().find(|k| (k.recognize)(file, info))
}

/// Names the kind of a file that cannot be checkpointed, from its mode.
fn unsupported_kind(mode: u32) -> &'static str {
    match mode & S_IFMT {
        0o010000 => "FIFO",
        0o140000 => "socket",
        0o020000 => "character device",
        0o060000 => "block device",
        0o120000 => "symbolic link",
        // Anonymous inodes have no file type.
        0 => "anonymous inode (fanotify, pidfd, userfaultfd, memfd_secret, ...)",
        _ => "special file",
    }
}

/// An open file, the shared object of a file record.
#[derive(Clone)]
pub(crate) struct OpenFile {
    /// The file.
    pub(crate) file: ARef<File>,
    /// Checkpoint: no descriptor refers to it, only memory areas: the record
    /// keeps only the open flags a mapping needs.
    mapped_only: bool,
}

impl Shared for OpenFile {
    const KIND: ObjKind = ObjKind::File;

    fn addr(&self) -> usize {
        self.file.addr()
    }

    /// One reference is the hash's.
    fn kernel_refs(&self) -> Option<u64> {
        Some(self.file.count().saturating_sub(1))
    }
}

impl Object for OpenFile {
    type Record<'a> = FileRecord<'a>;

    fn checkpoint(&self, ctx: &mut Ctx, objref: i32) -> Result {
        let info = self.file.info();
        let ops = kind_of(&self.file, &info).ok_or(EINVAL)?;
        let f = Saving {
            file: &self.file,
            info,
            objref,
            kind: ops.kind,
            mapped_only: self.mapped_only,
        };
        (ops.checkpoint)(ctx, &f)
    }

    fn objref(rec: &FileRecord<'_>) -> i32 {
        rec.objref
    }

    fn restore(ctx: &mut Ctx, rec: &FileRecord<'_>) -> Result<Self> {
        // Each record holds an open file until the end: as many as the
        // caller may have open, for each task.
        ctx.files_open += 1;
        let max = current::nofile_limit().saturating_mul(ctx.tasks);
        if ctx.files_open > max {
            ctx.log(format_args!(
                "file {}: more files than RLIMIT_NOFILE ({}) for each task",
                rec.objref,
                current::nofile_limit()
            ));
            return Err(EMFILE);
        }
        let ops = KINDS.iter().find(|k| k.kind == rec.kind).ok_or(EINVAL)?;
        let file = (ops.restore)(ctx, rec)?;
        Ok(Self {
            file,
            mapped_only: false,
        })
    }
}

/// A file whose record is being written: what its kind's checkpoint needs.
pub(crate) struct Saving<'a> {
    /// The file.
    file: &'a ARef<File>,
    /// What the image records of it.
    info: FileInfo,
    /// Its objref.
    objref: i32,
    kind: FileKind,
    mapped_only: bool,
}

impl Saving<'_> {
    /// Writes the file record, with its kind's state `data`.
    fn write(&self, ctx: &mut Ctx, data: FileData<'_>) -> Result {
        let info = &self.info;
        // Only what a mapping needs when no descriptor shows the rest (exec's
        // and the loader's O_NOATIME, say), which the task's user might not
        // be allowed to reopen with.
        let flags = if self.mapped_only {
            info.flags & MAPPED_FLAGS
        } else {
            info.flags
        };
        ctx.write_record(&Record::File(FileRecord {
            objref: self.objref,
            kind: self.kind,
            flags,
            mode: info.mode,
            rdev: info.rdev,
            pos: info.pos,
            data,
        }))
    }
}

/// What the object of an inode (an unlinked file, shared memory) holds: at
/// checkpoint, a file open on it, through which it is read; at restart, a
/// file on the new inode, which each file record on it opens again.
#[derive(Clone)]
pub(crate) enum OnInode {
    /// Checkpoint: a file open on the inode.
    Seen(ARef<File>),
    /// Restart: a file on the new inode, open for reading and writing.
    Restored(ARef<File>),
}

impl OnInode {
    /// [`Shared::addr`]: the inode.
    fn addr(&self) -> usize {
        match self {
            OnInode::Seen(f) | OnInode::Restored(f) => f.inode_addr(),
        }
    }

    /// [`Shared::holds`]: the file it was reached through.
    fn holds(&self) -> Option<usize> {
        match self {
            OnInode::Seen(f) => Some(f.addr()),
            OnInode::Restored(_) => None,
        }
    }

    /// Checkpoint: the file it was reached through.
    fn seen(&self) -> Result<&ARef<File>> {
        match self {
            OnInode::Seen(f) => Ok(f),
            OnInode::Restored(_) => Err(EINVAL),
        }
    }

    /// Checkpoint: returns the size of the inode and its first bytes, the
    /// head that the object's own record holds ([`head_len`]). Beyond
    /// [`MAX_UNLINKED`] bytes, refused (`EFBIG` and an error record about
    /// `what` `objref`) without `CHECKPOINT_BIG_FILES`.
    fn head(&self, ctx: &mut Ctx, (what, objref): (&str, i32)) -> Result<(u64, KVVec<u8>)> {
        let file = self.seen()?;
        let size = file.size();
        if size > MAX_UNLINKED as u64 && !ctx.big_files {
            return Err(ctx.fail(
                EFBIG,
                objref,
                format_args!(
                    "{what} {objref}: {size} bytes, more than the {MAX_UNLINKED} saved without CHECKPOINT_BIG_FILES"
                ),
            ));
        }
        let mut data = KVVec::from_elem(0u8, head_len(size), GFP_KERNEL_ACCOUNT)?;
        self.read(ctx, &mut data, 0, (what, objref))?;
        Ok((size, data))
    }

    /// Checkpoint: after the object's record, which holds the head of its
    /// `size` bytes, writes the rest in contents records.
    fn write_rest(&self, ctx: &mut Ctx, size: u64, objref: i32) -> Result {
        // CAST: at most `MAX_UNLINKED`.
        let mut at = head_len(size) as u64;
        if at >= size {
            return Ok(());
        }
        let chunk = ContentsRecord::MAX_DATA;
        let mut buf = KVVec::from_elem(0u8, chunk, GFP_KERNEL_ACCOUNT)?;
        while at < size {
            // CAST: at most `chunk`.
            let len = (size - at).min(chunk as u64) as usize;
            self.read(ctx, &mut buf[..len], at, ("contents of", objref))?;
            ctx.write_record(&Record::Contents(ContentsRecord {
                objref,
                offset: at,
                data: &buf[..len],
            }))?;
            at += len as u64;
        }
        Ok(())
    }

    /// Checkpoint: reads `buf.len()` bytes of the inode at `pos`.
    fn read(&self, ctx: &mut Ctx, buf: &mut [u8], pos: u64, (what, objref): (&str, i32)) -> Result {
        let pos = i64::try_from(pos).map_err(|_| EFBIG)?;
        self.seen()?.read_at(buf, pos).map_err(|e| {
            ctx.fail(
                e,
                objref,
                format_args!(
                    "{what} {objref}: its contents cannot be read (write-only, or shrunk?)"
                ),
            )
        })
    }

    /// Restart: writes the data of a contents record into the new inode;
    /// returns where it ends.
    fn write_contents(&self, ctx: &mut Ctx, rec: &ContentsRecord<'_>) -> Result<u64> {
        let pos = i64::try_from(rec.offset).map_err(|_| EFBIG)?;
        self.restored()?.write_at(rec.data, pos).inspect_err(|e| {
            ctx.log(format_args!(
                "object {}: cannot write {} bytes of contents at {} (errno {})",
                rec.objref,
                rec.data.len(),
                rec.offset,
                -e.to_errno()
            ))
        })?;
        // CAST: at most `ContentsRecord::MAX_DATA`.
        Ok(rec.offset + rec.data.len() as u64)
    }

    /// Restart: the file on the new inode.
    fn restored(&self) -> Result<&ARef<File>> {
        match self {
            OnInode::Restored(f) => Ok(f),
            OnInode::Seen(_) => Err(EINVAL),
        }
    }
}

/// Writes the record of a file reached by its path (regular files,
/// directories, devices): its kind, open flags, position and path.
fn checkpoint_path(ctx: &mut Ctx, f: &Saving<'_>) -> Result {
    let mut buf = KVec::from_elem(0u8, MAX_PATH + 1, GFP_KERNEL_ACCOUNT)?;
    let path = match saved_path(f.file, &mut buf) {
        Ok(p) => p,
        Err(e) => {
            return Err(ctx.fail(
                e,
                f.objref,
                format_args!("file {}: unlinked or internal file not supported", f.objref),
            ))
        }
    };
    f.write(ctx, FileData::Path(path))
}

/// Checkpoint: defers to the end of the checkpoint `check`, which calls
/// [`check_users`] for object `objref` and the `expected` users the kernel
/// counts on it.
fn defer_users_check(
    ctx: &mut Ctx,
    check: fn(&mut Ctx, u64) -> Result,
    objref: i32,
    expected: u64,
) -> Result {
    let arg = u64::from(objref.unsigned_abs()) | expected.min(u32::MAX.into()) << 32;
    ctx.deferq.add(check, arg)
}

/// Deferred: refuses the object of `arg` ([`defer_users_check`]) if the
/// image met fewer of its users than the kernel counts: some are outside,
/// and it could not come back shared with them. `what` names the object,
/// `users` its users.
fn check_users(ctx: &mut Ctx, arg: u64, (what, users): (&str, &str)) -> Result {
    // CAST: the halves `defer_users_check()` packed.
    let (objref, expected) = (arg as u32 as i32, (arg >> 32) as u32);
    let (seen, _) = ctx.objhash.users(objref);
    if seen < expected {
        return Err(ctx.fail(
            eopnotsupp(),
            objref,
            format_args!(
                "{what} {objref}: {} of its {expected} {users} are outside the image",
                expected - seen
            ),
        ));
    }
    Ok(())
}

/// Opens the file of record `rec` on `held`, a file that object `what`
/// `objref` holds, with open flags `flags` at position `pos`, with the
/// credentials of the task being restored.
fn reopen_held(
    ctx: &mut Ctx,
    rec: &FileRecord<'_>,
    held: &File,
    (flags, pos): (u32, i64),
    (what, objref): (&str, i32),
) -> Result<ARef<File>> {
    let cred = ctx.task_cred.clone().ok_or(EINVAL)?;
    held.reopen(flags, pos, &cred).inspect_err(|e| {
        ctx.log(format_args!(
            "file {}: cannot open {what} {objref} (errno {})",
            rec.objref,
            -e.to_errno()
        ))
    })
}

/// Returns the path under which `file` can be reopened, in `buf`:
/// `EOPNOTSUPP` if it has none (unlinked, or on an internal mount).
fn saved_path<'b>(file: &File, buf: &'b mut [u8]) -> Result<&'b [u8]> {
    let path = file.path(buf)?;
    if path.ends_with(b" (deleted)") || !path.starts_with(b"/") {
        return Err(eopnotsupp());
    }
    Ok(path)
}

/// The open flags kept for a file that is only mapped: `O_ACCMODE` and
/// `O_LARGEFILE`.
const MAPPED_FLAGS: u32 = 0o3 | 0o100000;

/// Reopens the file of a record by its path, with the credentials of the
/// task being restored, and checks that the path still names a file of
/// the same type and device.
fn restore_path(ctx: &mut Ctx, rec: &FileRecord<'_>) -> Result<ARef<File>> {
    // A restart never opens a file that the image's user could not: a
    // file record before any task record has no credentials to be opened
    // with, and never falls back to the caller's.
    let cred = ctx.task_cred.clone().ok_or(EINVAL)?;
    let path = rec.path().ok_or(EINVAL)?;
    let file = File::open(path, rec.flags, rec.pos, Some(&cred)).inspect_err(|e| {
        ctx.log(format_args!(
            "file {}: cannot reopen {} at {} (errno {})",
            rec.objref,
            BStr::from_bytes(path),
            rec.pos,
            -e.to_errno()
        ))
    })?;
    let info = file.info();
    if info.mode & S_IFMT != rec.mode & S_IFMT || info.rdev != rec.rdev {
        ctx.log(format_args!(
            "file {}: {} is no longer a {} file",
            rec.objref,
            BStr::from_bytes(path),
            rec.kind.name()
        ));
        return Err(EINVAL);
    }
    Ok(file)
}

/// Checkpoint: returns the objref of a file that `task` maps, writing its
/// record if needed, or `None` if the file cannot be saved.
pub(crate) fn checkpoint_mapped(ctx: &mut Ctx, file: ARef<File>) -> Result<Option<i32>> {
    let of = OpenFile {
        file,
        mapped_only: true,
    };
    let new = ctx.objref_of(&of).is_none();
    if new {
        let info = of.file.info();
        match kind_of(&of.file, &info).map(|k| k.kind) {
            // Its own checkpoint says why it cannot be saved, if it cannot.
            Some(FileKind::Unlinked | FileKind::Shmem) => {}
            Some(FileKind::Regular) => {
                let mut buf = KVec::from_elem(0u8, MAX_PATH + 1, GFP_KERNEL_ACCOUNT)?;
                if saved_path(&of.file, &mut buf).is_err() {
                    return Ok(None);
                }
            }
            _ => return Ok(None),
        }
    }
    // Each area and the executable count as users.
    let objref = ctx.checkpoint_obj(&of)?;
    if of.file.is_internal_shmem() {
        shmem::count_area(ctx, &of.file)?;
    }
    if new {
        lock::check_unlocked(ctx, &of.file, objref)?;
    }
    Ok(Some(objref))
}

/// A descriptor table that processes share (`clone(CLONE_FILES)`): an
/// object of the hash, which their objs records name.
impl Shared for ARef<FdTable> {
    const KIND: ObjKind = ObjKind::FdTable;

    fn addr(&self) -> usize {
        FdTable::addr(self)
    }

    /// One reference is the hash's; each task that uses it holds one.
    fn kernel_refs(&self) -> Option<u64> {
        Some(self.refs().saturating_sub(1))
    }
}

/// Writes the descriptors of `task`, the files they refer to, and the locks
/// held through them.
pub(crate) fn checkpoint_files(ctx: &mut Ctx, task: &Task, pid: i32) -> Result {
    let mut from = 0;
    let mut count = 0;
    // Each file once, with the first descriptor of it.
    let mut files: KVec<(u32, i32, ARef<File>)> = KVec::new();
    while let Some((fd, file, cloexec)) = File::next_of_task(task, from) {
        let info = file.info();
        if kind_of(&file, &info).is_none() {
            return Err(ctx.fail(
                eopnotsupp(),
                0,
                format_args!("fd {fd}: {} not supported", unsupported_kind(info.mode)),
            ));
        }
        let objref = ctx.checkpoint_obj(&OpenFile {
            file: file.clone(),
            mapped_only: false,
        })?;
        if !files.iter().any(|(_, o, _)| *o == objref) {
            files.push((fd, objref, file), GFP_KERNEL_ACCOUNT)?;
        }
        ctx.write_record(&Record::Fd(FdRecord {
            // CAST: descriptors are below `INT_MAX` (`sysctl_nr_open`).
            fd: fd as i32,
            objref,
            cloexec,
        }))?;
        count += 1;
        from = fd + 1;
    }
    let mut locks = 0;
    for (fd, objref, file) in files.iter() {
        lock::checkpoint_locks(ctx, task, (*fd, *objref, file), &mut locks)?;
        // After the locks: a lease sets an owner too.
        lock::check_owner(ctx, *fd, file)?;
    }
    ctx.log(format_args!("pid {pid}: {count} descriptors"));
    Ok(())
}

/// The descriptors restart installs at the end, and the POSIX locks it
/// takes through them, each with the descriptor of its file.
pub(crate) struct Fds {
    fds: KVec<(u32, ARef<File>, bool)>,
    locks: KVec<(u32, lock::PosixLock)>,
}

impl Fds {
    /// The first descriptor of `file`.
    fn fd_of(&self, file: &File) -> Option<u32> {
        self.fds
            .iter()
            .find(|(_, f, _)| f.addr() == file.addr())
            .map(|(fd, _, _)| *fd)
    }
}

/// Reads the fd records of a task (and the files they refer to), then its
/// lock records.
pub(crate) fn restore_files(ctx: &mut Ctx, buf: &mut RecordBuf) -> Result<Fds> {
    let mut fds = Fds {
        fds: KVec::new(),
        locks: KVec::new(),
    };
    while let Some(rec) = ctx.read_if::<FdRecord>(buf)? {
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
        let of = ctx.fetch::<OpenFile>(rec.objref)?;
        // CAST: the format refuses negative descriptors.
        fds.fds
            .push((rec.fd as u32, of.file, rec.cloexec), GFP_KERNEL_ACCOUNT)?;
    }
    for l in lock::restore_locks(ctx, buf)? {
        let Some(fd) = fds.fd_of(l.file()) else {
            ctx.log(format_args!("a POSIX lock on a file no descriptor holds"));
            return Err(EINVAL);
        };
        fds.locks.push((fd, l), GFP_KERNEL_ACCOUNT)?;
    }
    Ok(fds)
}

impl Fds {
    /// Replaces all the caller's descriptors with those of the image.
    pub(crate) fn commit(&self, ctx: &mut Ctx) -> Result {
        close_all_fds();
        for (fd, file, cloexec) in &self.fds {
            if let Err(e) = file.install(*fd, *cloexec) {
                ctx.log(format_args!(
                    "fd {fd}: cannot install (errno {})",
                    -e.to_errno()
                ));
                return Err(e);
            }
        }
        for (fd, l) in &self.locks {
            l.commit(ctx, *fd)?;
        }
        Ok(())
    }
}
