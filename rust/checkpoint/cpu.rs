// SPDX-License-Identifier: GPL-2.0

//! CPU state: the contract each architecture implements, and the generic
//! part, the restart block of an interrupted system call.
//!
//! An architecture provides one type implementing [`Arch`], in
//! `arch/<arch>/kernel/checkpoint/` (its `sys.rs` is the arch's `unsafe`
//! layer, beside the generic [`crate::sys`]), and its C glue in
//! `arch/<arch>/kernel/checkpoint.c`. Generic code reaches it only as
//! [`Native`], through this trait: it names no architecture.
//!
//! A task stopped in a system call that was interrupted returns
//! `-ERESTART*`. These values are saved as they are and restart returns
//! them as its own result, so that the usual signal-return path restarts
//! the call. A call that returned `-ERESTART_RESTARTBLOCK` also needs its
//! restart block: sleeps and futex waits with a timeout are saved with the
//! time left (a [`RestartBlock`] record after the arch's records); other
//! kinds (poll, ...) are turned into `-EINTR`, as an interrupting signal
//! with a handler would.

use crate::{
    ctx::{Ctx, RecordBuf},
    sys::{
        signal::{current, RestartBlock as Block},
        task::Task,
    },
};
use ckpt_format::{Record, RestartBlock, RestartKind};
use kernel::{bindings, prelude::*};

pub(crate) use crate::arch::Native;

/// What an architecture provides to checkpoint and restore a task's CPU
/// state, and how the generic code sees a task's system call through it.
pub(crate) trait Arch {
    /// The architecture of the images this kernel writes and restores.
    const ARCH: ckpt_format::Arch;

    /// Restart: the CPU state read from the image, loaded at the end.
    type Cpu;

    /// Checkpoint: the system call `task` (stopped, or the caller) is in,
    /// if any, and what it returns so far.
    fn syscall(task: &Task) -> Option<Syscall>;

    /// Checkpoint: writes the CPU records of `task`: registers, TLS
    /// bases, extended state. `ret`, if given, replaces the return value
    /// of the system call the task is in. A state that no restart of this
    /// architecture could load fails with `EOPNOTSUPP` and an error record.
    fn checkpoint_cpu(ctx: &mut Ctx, task: &Task, ret: Option<i64>) -> Result;

    /// Restart: reads the records written by [`Arch::checkpoint_cpu`] and
    /// checks them against this CPU and the caller, changing nothing.
    fn restore_cpu(ctx: &mut Ctx, buf: &mut RecordBuf) -> Result<Self::Cpu>;

    /// Restart: the system call of a restored state, as [`Arch::syscall`].
    fn cpu_syscall(cpu: &Self::Cpu) -> Option<Syscall>;

    /// Restart: replaces the return value of the system call of `cpu`.
    fn set_cpu_return(cpu: &mut Self::Cpu, ret: i64);

    /// Restart: loads `cpu` into the caller; returns what its system call
    /// returns to user space.
    fn commit_cpu(ctx: &mut Ctx, cpu: Self::Cpu) -> Result<i64>;

    /// Restart: maps the vDSO text at `text` after its data pages `data`
    /// (both `(start, end)`), as the image had them.
    fn map_vdso(data: (u64, u64), text: (u64, u64)) -> Result;
}

/// A system call a task is in.
#[derive(Clone, Copy)]
pub(crate) struct Syscall {
    /// Its number.
    pub(crate) nr: i64,
    /// What it returns so far (`-ERESTART*` if interrupted).
    pub(crate) ret: i64,
}

const ERESTARTSYS: i64 = bindings::ERESTARTSYS as i64;
const ERESTART_RESTARTBLOCK: i64 = bindings::ERESTART_RESTARTBLOCK as i64;
const EINTR: i64 = bindings::EINTR as i64;

/// Writes the CPU state of `task` and the restart block of its system call;
/// `returns`, if given, is what that call returns (the tree decides it).
pub(crate) fn checkpoint_cpu(ctx: &mut Ctx, task: &Task, returns: Option<i64>) -> Result {
    let mut ret = returns;
    let mut block = None;
    if task.is_current() {
        // Self-checkpoint: the restarted task sees checkpoint(2) return 0.
        ret = Some(0);
    } else if let Some(call) = Native::syscall(task).filter(|_| ret.is_none()) {
        if call.ret == -ERESTART_RESTARTBLOCK {
            match task.restart_block() {
                Ok(b) => block = Some(b),
                Err(_) => {
                    ctx.log(format_args!(
                        "system call {} has a restart block of an unsupported kind: it will return EINTR",
                        call.nr
                    ));
                    ret = Some(-EINTR);
                }
            }
        }
    }
    Native::checkpoint_cpu(ctx, task, ret)?;
    let Some(b) = block else {
        return Ok(());
    };
    let kind = if b.kind == bindings::CKPT_RESTART_FUTEX {
        RestartKind::FutexWait
    } else {
        RestartKind::Nanosleep
    };
    ctx.write_record(&Record::RestartBlock(RestartBlock {
        kind,
        clockid: b.clockid,
        remaining_ns: b.remaining,
        addr: b.addr,
        rmtp_type: b.rmtp_type,
        futex_val: b.val,
        futex_bitset: b.bitset,
        futex_shared: b.shared != 0,
    }))
}

/// The CPU state of a task being restored.
pub(crate) struct CpuState {
    cpu: <Native as Arch>::Cpu,
    block: Option<Block>,
}

/// Reads the CPU state of a task, and the restart block of its call.
pub(crate) fn restore_cpu(ctx: &mut Ctx, buf: &mut RecordBuf) -> Result<CpuState> {
    let cpu = Native::restore_cpu(ctx, buf)?;
    let block = ctx.read_if::<RestartBlock>(buf)?.map(|rec| Block {
        kind: match rec.kind {
            RestartKind::Nanosleep => bindings::CKPT_RESTART_NANOSLEEP,
            RestartKind::FutexWait => bindings::CKPT_RESTART_FUTEX,
        },
        clockid: rec.clockid,
        remaining: rec.remaining_ns,
        addr: rec.addr,
        rmtp_type: rec.rmtp_type,
        val: rec.futex_val,
        bitset: rec.futex_bitset,
        shared: u32::from(rec.futex_shared),
    });
    Ok(CpuState { cpu, block })
}

impl CpuState {
    /// Loads the state into the caller; returns what its system call
    /// returns.
    pub(crate) fn commit(self, ctx: &mut Ctx) -> Result<i64> {
        let Self { mut cpu, block } = self;
        let call = Native::cpu_syscall(&cpu);
        if call.is_some_and(|c| c.ret == -ERESTART_RESTARTBLOCK) {
            match &block {
                Some(b) => current::set_restart_block(b)?,
                None => Native::set_cpu_return(&mut cpu, -EINTR),
            }
        }
        let ret = Native::commit_cpu(ctx, cpu)?;
        if call.is_some() && (-ERESTART_RESTARTBLOCK..=-ERESTARTSYS).contains(&ret) {
            current::notify_restart();
        }
        Ok(ret)
    }
}
