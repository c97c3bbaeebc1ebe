// SPDX-License-Identifier: GPL-2.0

//! `checkpoint(2)`: write the image of a task.

use crate::{
    cpu::{Arch, Native},
    ctx::{Ctx, Mode},
    sys::{task::Task, uts},
    task,
};
use ckpt_format::{Header, Record, Tail, CHECKPOINT_FLAGS_MASK, FORMAT_VERSION};
use core::sync::atomic::{AtomicU32, Ordering};
use kernel::prelude::*;

/// Source of checkpoint ids; ids are positive and never reused during a boot.
static NEXT_ID: AtomicU32 = AtomicU32::new(1);

/// Checkpoints the task `pid` (0: the caller) into `fd`, logging to `logfd`.
///
/// Returns the checkpoint id, which is positive.
pub(crate) fn checkpoint(pid: i32, fd: i32, flags: u64, logfd: i32) -> Result<i64> {
    if flags & !CHECKPOINT_FLAGS_MASK != 0 {
        return Err(EINVAL);
    }
    let mut ctx = Ctx::new(Mode::Checkpoint, fd, logfd)?;
    let task = match pid {
        0 => Task::current(),
        _ => Task::from_vpid(pid).ok_or(ESRCH)?,
    };
    // Held until the image is written: the target cannot exec meanwhile,
    // so the access checked here holds for the whole capture, however long
    // writes to the image block.
    let _pin = task.pin().inspect_err(|e| {
        if e.to_errno() == EPERM.to_errno() {
            ctx.log(format_args!("pid {pid}: ptrace attach access denied"));
        }
    })?;
    // Ids stay positive: after 2^31 checkpoints they wrap to 1.
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed) % (i32::MAX as u32) + 1;
    ctx.log(format_args!("id {id}: pid {pid}"));

    write_header(&mut ctx, flags, id)?;
    let result = (|| {
        task::checkpoint_task(&mut ctx, &task)?;
        ctx.run_deferred()?;
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
