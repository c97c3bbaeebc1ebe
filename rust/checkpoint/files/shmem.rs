// SPDX-License-Identifier: GPL-2.0

//! Shared memory of the kernel's internal mount: memfds, and shared
//! anonymous memory (`MAP_SHARED | MAP_ANONYMOUS`, whose areas map a file
//! of that mount too).
//!
//! The memory (its inode) is a shared object ([`Shmem`]) whose record
//! holds its contents (saved once however many tasks map it: the first
//! [`ckpt_format::MAX_UNLINKED`] bytes, contents records the rest), and a
//! memfd's name, seals and mode; each file open
//! on it, by a descriptor or a memory area, names it by objref, and each
//! area maps that file again. Restart makes a memfd as `memfd_create()`
//! would, or shared anonymous memory as `mmap()` would, fills it, then adds
//! the memfd's seals, and opens each file on it: a write by one task is seen
//! by the others again.
//!
//! Memory shared with a task outside the image could not come back
//! shared: a deferred check compares the areas that map it with those the
//! image holds, and refuses the checkpoint if some are missing.

use super::{check_users, defer_users_check, reopen_held, FileOps, OnInode, Saving};
use crate::{
    ctx::Ctx,
    objhash::{Object, Shared},
    sys::{eopnotsupp, file::File},
};
use ckpt_format::{
    stream::ObjKind, ContentsRecord, FileData, FileKind, FileRecord, ShmemRecord, MAX_MEMFD_NAME,
};
use kernel::{bindings, prelude::*, str::BStr, types::ARef};

pub(super) const OPS: FileOps = FileOps {
    kind: FileKind::Shmem,
    recognize: |file, _| file.is_internal_shmem(),
    checkpoint,
    restore,
};

/// The name a memfd's dentry has before the name given to it.
const MEMFD_PREFIX: &[u8] = b"memfd:";

/// The name of the file of shared anonymous memory.
const ANON_NAME: &[u8] = b"dev/zero";

/// Shared memory, the shared object of the file records open on it; at
/// restart, the new memory.
#[derive(Clone)]
pub(crate) struct Shmem {
    on: OnInode,
    /// Restart: its size, and the seals it gets once it is filled.
    size: u64,
    seals: u32,
}

impl Shmem {
    /// Checkpoint: the shared memory that `file` is open on.
    fn seen(file: &ARef<File>) -> Self {
        Shmem {
            on: OnInode::Seen(file.clone()),
            size: 0,
            seals: 0,
        }
    }

    /// Restart: adds the seals of a memfd whose contents are all in.
    fn seal(&self) -> Result {
        let file = self.on.restored()?;
        let missing = self.seals & !file.seals()?;
        if missing != 0 {
            file.add_seals(missing)?;
        }
        Ok(())
    }
}

impl Shared for Shmem {
    const KIND: ObjKind = ObjKind::Shmem;

    fn addr(&self) -> usize {
        self.on.addr()
    }

    fn holds(&self) -> Option<usize> {
        self.on.holds()
    }
}

impl Object for Shmem {
    type Record<'a> = ShmemRecord<'a>;

    fn checkpoint(&self, ctx: &mut Ctx, objref: i32) -> Result {
        let file = self.on.seen()?;
        let mut buf = [0u8; MAX_MEMFD_NAME + MEMFD_PREFIX.len() + 1];
        let dentry = file.dentry_name(&mut buf);
        let (memfd, name) = match dentry.strip_prefix(MEMFD_PREFIX) {
            Some(name) => (true, name),
            None if dentry == ANON_NAME => (false, &[][..]),
            None => {
                return Err(ctx.fail(
                    eopnotsupp(),
                    objref,
                    format_args!(
                        "shared memory {objref}: internal file {} not supported",
                        BStr::from_bytes(dentry)
                    ),
                ))
            }
        };
        let (size, head) = self.on.head(ctx, ("shared memory", objref))?;
        // Every area that maps it must be in the image.
        defer_users_check(ctx, check_areas, objref, file.mapped_areas())?;
        ctx.write_record(&ckpt_format::Record::Shmem(ShmemRecord {
            objref,
            memfd,
            seals: file.seals()?,
            mode: file.info().mode,
            name,
            size,
            data: &head,
        }))?;
        self.on.write_rest(ctx, size, objref)
    }

    fn restore_contents(&self, ctx: &mut Ctx, rec: &ContentsRecord<'_>) -> Result {
        if self.on.write_contents(ctx, rec)? == self.size {
            self.seal()?;
        }
        Ok(())
    }

    fn objref(rec: &ShmemRecord<'_>) -> i32 {
        rec.objref
    }

    fn restore(ctx: &mut Ctx, rec: &ShmemRecord<'_>) -> Result<Self> {
        let (name, flags) = match rec.memfd {
            // Sealing allowed, so that the image's seals can be added; no
            // exec bits: sealed so, as memfd_create() does.
            true if rec.mode & 0o111 == 0 => (Some(rec.name), bindings::MFD_NOEXEC_SEAL),
            true => (Some(rec.name), bindings::MFD_ALLOW_SEALING),
            false => (None, 0),
        };
        let made = File::new_shmem(name, flags, rec.data, rec.size).and_then(|file| {
            let shmem = Shmem {
                on: OnInode::Restored(file),
                size: rec.size,
                // Shared anonymous memory has F_SEAL_SEAL from the start.
                seals: if rec.memfd { rec.seals } else { 0 },
            };
            // Sealed once filled: now, or after its contents records.
            // CAST: at most `MAX_UNLINKED`.
            if rec.data.len() as u64 == rec.size {
                shmem.seal()?;
            }
            Ok(shmem)
        });
        made.inspect_err(|e| {
            ctx.log(format_args!(
                "shared memory {}: cannot make it, {} bytes (errno {})",
                rec.objref,
                rec.size,
                -e.to_errno()
            ))
        })
    }
}

/// Deferred: refuses shared memory that fewer areas of the image map than
/// map it in all.
fn check_areas(ctx: &mut Ctx, arg: u64) -> Result {
    check_users(ctx, arg, ("shared memory", "memory areas"))
}

/// Checkpoint: counts a memory area of the image that maps `file`, shared
/// memory, for the check of [`check_areas`].
pub(crate) fn count_area(ctx: &mut Ctx, file: &ARef<File>) -> Result {
    ctx.checkpoint_obj(&Shmem::seen(file)).map(|_| ())
}

fn checkpoint(ctx: &mut Ctx, f: &Saving<'_>) -> Result {
    // Its users are the areas that map it, which count_area() counts.
    let shmem = ctx.checkpoint_uncounted(&Shmem::seen(f.file))?;
    f.write(ctx, FileData::Shmem { shmem })
}

fn restore(ctx: &mut Ctx, rec: &FileRecord<'_>) -> Result<ARef<File>> {
    let FileData::Shmem { shmem } = rec.data else {
        return Err(EINVAL);
    };
    let file = ctx.fetch::<Shmem>(shmem)?.on.restored()?.clone();
    let what = ("shared memory", shmem);
    reopen_held(ctx, rec, &file, (rec.flags, rec.pos), what)
}
