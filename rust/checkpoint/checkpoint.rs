// SPDX-License-Identifier: GPL-2.0

//! `checkpoint(2)`: write the image of a task and its descendants.

use crate::{
    cpu::{Arch, Native},
    ctx::{Ctx, Mode},
    sys::{
        task::{PidNs, Task},
        uts,
    },
    tree,
};
use ckpt_format::{
    Header, Record, Tail, CHECKPOINT_BIG_FILES, CHECKPOINT_FLAGS_MASK, CHECKPOINT_SUBTREE,
    FORMAT_VERSION,
};
use core::sync::atomic::{AtomicU32, Ordering};
use kernel::prelude::*;

/// Source of checkpoint ids; ids are positive and never reused during a boot.
static NEXT_ID: AtomicU32 = AtomicU32::new(1);

/// Checkpoints the task `pid` (0: the caller) into `fd`, logging to `logfd`:
/// with its descendants, unless it is the caller.
///
/// A task that is not the init of its pid namespace is saved as a subtree,
/// which `CHECKPOINT_SUBTREE` must ask for; without it, an init is saved as
/// a container: its tasks named in its pid namespace, and checked for
/// objects shared with tasks outside. Returns the checkpoint id, which is
/// positive.
pub(crate) fn checkpoint(pid: i32, fd: i32, flags: u64, logfd: i32) -> Result<i64> {
    if flags & !CHECKPOINT_FLAGS_MASK != 0 {
        return Err(EINVAL);
    }
    let mut ctx = Ctx::new(Mode::Checkpoint, fd, logfd)?;
    let root = match pid {
        0 => Task::current(),
        _ => Task::from_vpid(pid).ok_or(ESRCH)?,
    };
    // Access to the root, checked before anything is written; each task is
    // checked again while its state is read.
    drop(root.pin().inspect_err(|e| {
        if *e == EPERM {
            ctx.log(format_args!("pid {pid}: ptrace attach access denied"));
        }
    })?);
    if root.vtgid() != root.vpid() {
        ctx.log(format_args!(
            "pid {pid}: a thread of process {}: checkpoint the process",
            root.vtgid()
        ));
        return Err(EINVAL);
    }
    let init = root.is_ns_init();
    if !init && flags & CHECKPOINT_SUBTREE == 0 {
        ctx.log(format_args!(
            "pid {pid}: not the init of a pid namespace: a subtree needs CHECKPOINT_SUBTREE"
        ));
        return Err(EINVAL);
    }
    // Ids stay positive: after 2^31 checkpoints they wrap to 1.
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed) % (i32::MAX as u32) + 1;
    ctx.log(format_args!("id {id}: pid {pid}"));

    let container = flags & CHECKPOINT_SUBTREE == 0;
    if container {
        // Its tasks are named as they see each other.
        ctx.pidns = PidNs::of(&root);
    }
    ctx.big_files = flags & CHECKPOINT_BIG_FILES != 0;
    write_header(&mut ctx, flags, id)?;
    let result = (|| {
        tree::checkpoint_tree(&mut ctx, &root)?;
        ctx.run_deferred()?;
        if container {
            check_leaks(&mut ctx)?;
        }
        ctx.write_record(&Record::Tail(Tail))
    })();
    if let Err(e) = result {
        // Records the failure in the image if nothing did yet.
        return Err(ctx.fail(e, 0, format_args!("checkpoint failed")));
    }
    ctx.log(format_args!(
        "id {id}: done, {} bytes, {} shared objects",
        ctx.offset(),
        ctx.objhash.count()
    ));
    Ok(i64::from(id))
}

/// A container comes back whole only if nothing outside it shares its
/// objects (linux-cr's leak detection): the kernel must count no more
/// references on each than the image's users account for.
fn check_leaks(ctx: &mut Ctx) -> Result {
    match ctx.objhash.leak()? {
        None => Ok(()),
        Some(l) => Err(ctx.fail(
            EBUSY,
            l.objref,
            format_args!(
                "{:?} objref {} (first used by pid {}): {} references from outside the container",
                l.kind, l.objref, l.first_pid, l.outside
            ),
        )),
    }
}

fn write_header(ctx: &mut Ctx, flags: u64, id: u32) -> Result {
    let uts = uts::Uts::current();
    ctx.write_record(&Record::Header(Header {
        version: FORMAT_VERSION,
        // CAST: checked against the mask, which fits in 32 bits.
        flags: flags as u32,
        arch: Native::ARCH,
        page_size: uts::page_size(),
        ckpt_id: u64::from(id),
        time: uts::real_seconds(),
        release: &uts.release,
        version_str: &uts.version,
        machine: &uts.machine,
    }))
}
