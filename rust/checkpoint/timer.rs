// SPDX-License-Identifier: GPL-2.0

//! Interval timers of a thread group: checkpoint and restore.
//!
//! After its signals record (which holds `ITIMER_REAL`), a process's
//! leader writes one timer record per armed `ITIMER_VIRTUAL` and
//! `ITIMER_PROF` timer, then one per POSIX timer, by increasing id, each
//! with its clock, sigevent, setting, overrun count, and whether its
//! signal is queued (such a signal is saved here, not with the pending
//! signals). A timer is saved with the time it had left, as sleeps are;
//! an absolute `CLOCK_REALTIME` timer keeps its expiry instead, so that it
//! holds across a reboot, as a timerfd does.
//!
//! Restart checks the records when it reads them and creates the timers
//! once the task has its credentials, so that they count against its own
//! `RLIMIT_SIGPENDING`: a POSIX timer with its id, as `timer_create()`
//! and `timer_settime()` would make it, and its signal queued again if it
//! was. Timers on CPU clocks restart from the time they had left, as the
//! process's CPU time does not survive a restart. A POSIX timer on a
//! thread's CPU clock, on another process's, or that signals a thread
//! other than the leader refuses the checkpoint (`EOPNOTSUPP`).

use crate::{
    ctx::{Ctx, RecordBuf},
    sys::{
        cred::capable,
        eopnotsupp,
        event::clock_now,
        task::Task,
        timer::{new_timer, set_timer, Timer},
    },
};
use ckpt_format::{Record, TimerKind, TimerRecord};
use kernel::{bindings, prelude::*};

/// Most POSIX timers of a process an image may hold.
pub(crate) const MAX_TIMERS: usize = 4096;

/// The largest time `setitimer()` and `timer_settime()` take here: a
/// `ktime_t` with room for the interval.
const MAX_TIME: u64 = i64::MAX as u64 / 2;

/// Writes the timers of the thread group that `task` (pid `pid` in the
/// image) leads.
pub(crate) fn checkpoint_timers(ctx: &mut Ctx, task: &Task, pid: i32) -> Result {
    for kind in [bindings::CKPT_TIMER_VIRTUAL, bindings::CKPT_TIMER_PROF] {
        let mut t = new_timer(kind, 0);
        task.timer(&ctx.pidns, &mut t)?;
        if t.expiry != 0 {
            write_timer(ctx, &t)?;
        }
    }
    let ids = task.timer_ids(MAX_TIMERS).map_err(|e| {
        ctx.fail(
            e,
            0,
            format_args!("pid {pid}: more than {MAX_TIMERS} POSIX timers"),
        )
    })?;
    for id in ids {
        let mut t = new_timer(bindings::CKPT_TIMER_POSIX, id);
        task.timer(&ctx.pidns, &mut t).map_err(|e| {
            ctx.fail(
                e,
                0,
                format_args!("pid {pid}: POSIX timer {id} went away during the checkpoint"),
            )
        })?;
        if !TimerRecord::CLOCKS.contains(&t.clock) {
            return Err(ctx.fail(
                eopnotsupp(),
                0,
                format_args!(
                    "pid {pid}: POSIX timer {id} on clock {}, a thread's or another process's CPU clock; not supported",
                    t.clock
                ),
            ));
        }
        if t.notify & TimerRecord::SIGEV_THREAD_ID != 0 && t.tid != pid {
            return Err(ctx.fail(
                eopnotsupp(),
                0,
                format_args!(
                    "pid {pid}: POSIX timer {id} signals thread {}, not the leader; not supported",
                    t.tid
                ),
            ));
        }
        if t.flags & bindings::CKPT_TIMER_ABSTIME != 0 {
            t.expiry = t.expiry.saturating_add(clock_now(bindings::CLOCK_REALTIME));
        }
        write_timer(ctx, &t)?;
    }
    Ok(())
}

fn write_timer(ctx: &mut Ctx, t: &Timer) -> Result {
    let kind = match t.kind {
        bindings::CKPT_TIMER_VIRTUAL => TimerKind::Virtual,
        bindings::CKPT_TIMER_PROF => TimerKind::Prof,
        _ => TimerKind::Posix,
    };
    ctx.write_record(&Record::Timer(TimerRecord {
        kind: Some(kind),
        id: t.id,
        clock: t.clock,
        notify: t.notify,
        signo: t.signo,
        tid: t.tid,
        flags: t.flags,
        overrun: t.overrun,
        pending_overrun: t.pending_overrun,
        value: t.value,
        expiry: t.expiry,
        interval: t.interval,
    }))
}

/// The timers restart gives a process once it has its credentials.
pub(crate) struct Timers(KVec<Timer>);

/// Reads the timer records of the process whose leader is `pid`, checking
/// each against the caller as `setitimer()` and `timer_create()` would.
pub(crate) fn restore_timers(ctx: &mut Ctx, buf: &mut RecordBuf, pid: i32) -> Result<Timers> {
    let mut timers = KVec::new();
    let mut last = None;
    while let Some(rec) = ctx.read_if::<TimerRecord>(buf)? {
        let Some(kind) = rec.kind else {
            return Err(EINVAL);
        };
        // Each timer once, in the order checkpoint writes them; this bounds
        // their count too.
        let key = (kind as u32, rec.id);
        if last.is_some_and(|l| l >= key) || timers.len() >= MAX_TIMERS {
            ctx.log(format_args!(
                "timer {} of kind {}: out of order, or more than {MAX_TIMERS}",
                rec.id, kind as u32
            ));
            return Err(EINVAL);
        }
        last = Some(key);
        check_timer(&rec, pid).inspect_err(|e| {
            ctx.log(format_args!(
                "POSIX timer {} (clock {}) refused (errno {})",
                rec.id,
                rec.clock,
                -e.to_errno()
            ))
        })?;
        let mut t = new_timer(kind as u32, rec.id);
        t.clock = rec.clock;
        t.notify = rec.notify;
        t.signo = rec.signo;
        t.tid = rec.tid;
        t.flags = rec.flags;
        t.overrun = rec.overrun;
        t.pending_overrun = rec.pending_overrun;
        t.value = rec.value;
        t.expiry = rec.expiry;
        t.interval = rec.interval;
        timers.push(t, GFP_KERNEL_ACCOUNT)?;
    }
    Ok(Timers(timers))
}

/// Checks a timer record of the process `pid` against the caller.
fn check_timer(rec: &TimerRecord, pid: i32) -> Result {
    // setitimer(), timer_settime(): times that ktime_t holds.
    if rec.expiry > MAX_TIME || rec.interval > MAX_TIME {
        return Err(EINVAL);
    }
    // The thread it signals is the leader, the only one checkpoint saves.
    if rec.tid != 0 && rec.tid != pid {
        return Err(EINVAL);
    }
    // timer_create() on an alarm clock needs CAP_WAKE_ALARM.
    let alarm = [
        bindings::CLOCK_REALTIME_ALARM,
        bindings::CLOCK_BOOTTIME_ALARM,
    ];
    let on_alarm = u32::try_from(rec.clock).is_ok_and(|c| alarm.contains(&c));
    if on_alarm && !capable(bindings::CAP_WAKE_ALARM) {
        return Err(EPERM);
    }
    Ok(())
}

impl Timers {
    /// Gives the caller its timers, and queues the signals of those whose
    /// signal was pending.
    pub(crate) fn commit(&self, ctx: &mut Ctx) -> Result {
        let me = Task::current().vpid();
        for t in self.0.iter() {
            let mut t = *t;
            if t.tid != 0 {
                t.tid = me;
            }
            set_timer(&t).inspect_err(|e| {
                ctx.log(format_args!(
                    "cannot set timer {} of kind {} (errno {})",
                    t.id,
                    t.kind,
                    -e.to_errno()
                ))
            })?;
        }
        Ok(())
    }
}
