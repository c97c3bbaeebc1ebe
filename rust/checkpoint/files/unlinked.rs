// SPDX-License-Identifier: GPL-2.0

//! Unlinked files: regular files whose last name is gone, open or mapped.
//!
//! Such a file cannot be reopened by path. The file itself (its inode) is
//! a shared object ([`Unlinked`]) whose record holds its contents (the
//! first [`ckpt_format::MAX_UNLINKED`] bytes, contents records the rest),
//! its mode and the path of the directory it was
//! in; each file open on it, by a descriptor or a memory area, names it by
//! objref. Restart makes one file with no name in that directory
//! (`O_TMPFILE`, with the credentials of the task being restored) holding
//! the contents, and opens each file on it with its saved flags and
//! position: it is as unlinked as it was, and a write through a mapping
//! shows through a descriptor. A file whose directory is gone too, or is
//! not reachable from the checkpointer's root (memfds and shared memory
//! live on internal mounts), is refused, as is one that no file of the
//! image can read: the task itself could not.

use super::{reopen_held, FileOps, OnInode, Saving, S_IFMT};
use crate::{
    ctx::Ctx,
    objhash::{Object, Shared},
    sys::file::File,
};
use ckpt_format::{
    stream::ObjKind, ContentsRecord, FileData, FileKind, FileRecord, UnlinkedRecord, MAX_PATH,
};
use kernel::{prelude::*, str::BStr, types::ARef};

pub(super) const OPS: FileOps = FileOps {
    kind: FileKind::Unlinked,
    recognize: |file, info| info.mode & S_IFMT == 0o100000 && file.is_unlinked(),
    checkpoint,
    restore,
};

/// An unlinked file, the shared object of the file records open on it; at
/// restart, the new file with no name.
#[derive(Clone)]
pub(crate) struct Unlinked(OnInode);

impl Shared for Unlinked {
    const KIND: ObjKind = ObjKind::Unlinked;

    fn addr(&self) -> usize {
        self.0.addr()
    }

    fn holds(&self) -> Option<usize> {
        self.0.holds()
    }
}

impl Object for Unlinked {
    type Record<'a> = UnlinkedRecord<'a>;

    fn checkpoint(&self, ctx: &mut Ctx, objref: i32) -> Result {
        let file = self.0.seen()?;
        let mut buf = KVec::from_elem(0u8, MAX_PATH + 1, GFP_KERNEL_ACCOUNT)?;
        let dir = file.dir_path(&mut buf).map_err(|e| {
            ctx.fail(
                e,
                objref,
                format_args!(
                    "unlinked file {objref}: its directory is gone or out of reach (memfd, shared memory)"
                ),
            )
        })?;
        let (size, head) = self.0.head(ctx, ("unlinked file", objref))?;
        ctx.write_record(&ckpt_format::Record::Unlinked(UnlinkedRecord {
            objref,
            mode: file.info().mode,
            dir,
            size,
            data: &head,
        }))?;
        self.0.write_rest(ctx, size, objref)
    }

    fn objref(rec: &UnlinkedRecord<'_>) -> i32 {
        rec.objref
    }

    fn restore_contents(&self, ctx: &mut Ctx, rec: &ContentsRecord<'_>) -> Result {
        self.0.write_contents(ctx, rec).map(|_| ())
    }

    fn restore(ctx: &mut Ctx, rec: &UnlinkedRecord<'_>) -> Result<Self> {
        // Made with the credentials of its task, as a path is reopened.
        let cred = ctx.task_cred.clone().ok_or(EINVAL)?;
        File::new_unlinked(rec.dir, rec.mode, rec.data, &cred)
            .map(|f| Unlinked(OnInode::Restored(f)))
            .inspect_err(|e| {
                ctx.log(format_args!(
                    "unlinked file {}: cannot make one of {} bytes in {} (errno {})",
                    rec.objref,
                    rec.size,
                    BStr::from_bytes(rec.dir),
                    -e.to_errno()
                ))
            })
    }
}

fn checkpoint(ctx: &mut Ctx, f: &Saving<'_>) -> Result {
    let inode = ctx.checkpoint_obj(&Unlinked(OnInode::Seen(f.file.clone())))?;
    f.write(ctx, FileData::Unlinked { inode })
}

fn restore(ctx: &mut Ctx, rec: &FileRecord<'_>) -> Result<ARef<File>> {
    let FileData::Unlinked { inode } = rec.data else {
        return Err(EINVAL);
    };
    let file = ctx.fetch::<Unlinked>(inode)?.0.restored()?.clone();
    let what = ("unlinked file", inode);
    reopen_held(ctx, rec, &file, (rec.flags, rec.pos), what)
}
