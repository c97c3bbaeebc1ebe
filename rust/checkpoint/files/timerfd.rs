// SPDX-License-Identifier: GPL-2.0

//! Timerfds: the clock, the setting, and the expirations not read yet,
//! restored into a new timerfd armed as `timerfd_settime()` would arm it.
//!
//! The time to the next expiry is saved, so that a timer resumes with what
//! it had left, as sleeps do; an absolute `CLOCK_REALTIME` timer keeps its
//! expiry instead, which holds across a reboot (with
//! `TFD_TIMER_CANCEL_ON_SET`, until the clock is set again).

use super::{FileOps, Saving};
use crate::{
    ctx::Ctx,
    sys::{event::clock_now, file::File},
};
use ckpt_format::{FileData, FileKind, FileRecord, Timerfd};
use kernel::{bindings, prelude::*, types::ARef};

pub(super) const OPS: FileOps = FileOps {
    kind: FileKind::Timerfd,
    recognize: |file, _| file.timerfd_state().is_some(),
    checkpoint,
    restore,
};

fn checkpoint(ctx: &mut Ctx, f: &Saving<'_>) -> Result {
    let s = f.file.timerfd_state().ok_or(EINVAL)?;
    let mut t = Timerfd {
        clock: s.clock,
        flags: s.flags,
        value: s.value,
        interval: s.interval,
        ticks: s.ticks,
    };
    if t.value != 0 && t.is_realtime_expiry() {
        t.value = t.value.saturating_add(clock_now(t.clock));
    }
    f.write(ctx, FileData::Timerfd(t))
}

fn restore(ctx: &mut Ctx, rec: &FileRecord<'_>) -> Result<ARef<File>> {
    let FileData::Timerfd(t) = rec.data else {
        return Err(EINVAL);
    };
    let file = File::new_timerfd(t.clock, rec.flags & bindings::O_NONBLOCK != 0)?;
    // An absolute timer on another clock is armed again at the same
    // distance from now: its clock may have restarted since.
    let value = match t.flags & Timerfd::ABSTIME != 0 && !t.is_realtime_expiry() && t.value != 0 {
        true => t.value.saturating_add(clock_now(t.clock)),
        false => t.value,
    };
    file.timerfd_arm(t.flags, value, t.interval, t.ticks)
        .inspect_err(|e| {
            ctx.log(format_args!(
                "file {}: cannot arm the timerfd (errno {})",
                rec.objref,
                -e.to_errno()
            ))
        })?;
    Ok(file)
}
