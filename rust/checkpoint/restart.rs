// SPDX-License-Identifier: GPL-2.0

//! `restart(2)`: read, validate and restore an image.
//!
//! The caller becomes the task of the image. Records are applied as they are
//! read, in two phases. Up to the mm record, nothing of the caller changes:
//! credentials are checked, registers and extended state checked and kept,
//! files reopened. A failure there returns an error to the caller, unharmed.
//! The mm record releases the caller's memory; areas and pages are rebuilt
//! from the image, and at the tail the rest is set: mm layout, descriptors,
//! command name, extended state, registers, credentials. A failure after the
//! memory is released cannot return to the caller's program: the caller is
//! killed (`SIGKILL`), and the log says why.

use crate::{
    arch, cred,
    ctx::{Ctx, Mode, RecordBuf},
    files, fs, mm,
    objhash::{DefineError, MAX_OBJECTS},
    signal,
    sys::{task::current, uts},
    task,
};
use ckpt_format::{
    stream::StreamCheck, FormatError, Header, Record, RESTART_FLAGS_MASK, RESTART_FROZEN,
};
use kernel::prelude::*;

/// What restart builds up while it reads the image.
struct Restore {
    task: task::TaskRestore,
    cpu: arch::CpuRestore,
    fds: files::Fds,
    fs: fs::FsRestore,
    reopened: files::Reopened,
    mm: mm::MmRestore,
    signals: signal::SignalsRestore,
}

/// Restarts from the image in `fd`, logging to `logfd`.
///
/// `pid` must be 0: the image is restored into the caller (a coordinator mode
/// that restores a tree built by user space comes with multi-task restart).
/// Returns what the restored task's interrupted system call returns.
pub(crate) fn restart(pid: i32, fd: i32, flags: u64, logfd: i32) -> Result<i64> {
    if flags & !RESTART_FLAGS_MASK != 0 || pid != 0 {
        return Err(EINVAL);
    }
    let mut ctx = Ctx::new(Mode::Restart, fd, logfd)?;
    if !current::is_alone() {
        ctx.log(format_args!(
            "the caller shares its memory or descriptors with another task"
        ));
        return Err(EBUSY);
    }
    let mut st = Restore {
        task: task::TaskRestore::new(),
        cpu: arch::CpuRestore::new(),
        fds: files::Fds::new(),
        fs: fs::FsRestore::new(),
        reopened: files::Reopened::new(),
        mm: mm::MmRestore::new(),
        signals: signal::SignalsRestore::new(),
    };
    let r = restore(&mut ctx, &mut st);
    if r.is_ok() && flags & RESTART_FROZEN != 0 {
        current::stop();
    }
    if r.is_ok() && ctx.holds_signals() {
        current::resume_signals();
    }
    if let Err(e) = &r {
        if ctx.holds_signals() {
            ctx.log(format_args!(
                "failed after the caller's memory was released (errno {}): killing it",
                -e.to_errno()
            ));
            current::kill();
        }
    }
    r
}

fn restore(ctx: &mut Ctx, st: &mut Restore) -> Result<i64> {
    let mut check = StreamCheck::new();
    let mut buf = RecordBuf::new();
    while !check.is_done() {
        if current::fatal_signal_pending() {
            return Err(EINTR);
        }
        let offset = ctx.offset();
        let rec = ctx.read_record(&mut buf)?;
        check.next(&rec, &mut ctx.objhash).map_err(|e| match e {
            DefineError::Format(e) => ctx.bad_image(offset, e),
            DefineError::Kernel(e) => {
                if e.to_errno() == E2BIG.to_errno() {
                    ctx.log(format_args!(
                        "more than {MAX_OBJECTS} shared objects at offset {offset}"
                    ));
                }
                e
            }
        })?;
        match rec {
            Record::Header(h) => restore_header(ctx, &h, offset)?,
            Record::Cred(c) => cred::restore_cred(ctx, &c)?,
            Record::Task(t) => task::restore_task(ctx, &t, &mut st.task)?,
            Record::CpuX86_64(c) => arch::restore_cpu(ctx, &c, &mut st.cpu)?,
            Record::Xstate(x) => arch::restore_xstate(ctx, &x, &mut st.cpu)?,
            Record::RestartBlock(r) => arch::restore_restart_block(&r, &mut st.cpu)?,
            Record::Signals(s) => signal::restore_signals(ctx, &s, &mut st.signals)?,
            Record::Fs(f) => fs::restore_fs(ctx, &f, st.task.cred(), &mut st.fs)?,
            Record::File(f) => files::restore_file(ctx, &f, st.task.cred(), &mut st.reopened)?,
            Record::Fd(f) => files::restore_fd(ctx, &f, &mut st.fds)?,
            Record::Mm(m) => mm::restore_mm(ctx, &m, &mut st.mm)?,
            Record::Vma(v) => mm::restore_vma(ctx, &v, &mut st.mm, &st.reopened, st.task.cred())?,
            Record::Pages(p) => mm::restore_pages(ctx, &p, &mut st.mm)?,
            // The stream check refuses error records and ends at the tail.
            Record::Error(_) | Record::Tail(_) => {}
        }
    }
    if !st.mm.released {
        ctx.log(format_args!("the image has no memory to restore"));
        return Err(EINVAL);
    }
    mm::restore_mm_done(ctx, &mut st.mm)?;
    ctx.run_deferred()?;
    // Limits first: they may need privileges that new credentials drop.
    signal::restore_signals_done(ctx, &st.signals)?;
    fs::restore_fs_done(&st.fs);
    task::restore_task_done(ctx, &st.task)?;
    let ret = arch::restore_cpu_done(ctx, &mut st.cpu)?;
    // Last, so that the caller's descriptors close only on success (the
    // restart tool waits for that).
    st.fds.install(ctx)?;
    ctx.log(format_args!(
        "restored ({} bytes, {} shared objects); the task resumes",
        ctx.offset(),
        ctx.objhash.count()
    ));
    Ok(ret)
}

/// Checks that this kernel can restore an image with header `h`.
fn restore_header(ctx: &mut Ctx, h: &Header<'_>, offset: u64) -> Result {
    let release = core::str::from_utf8(h.release).unwrap_or("?");
    ctx.log(format_args!(
        "image {} taken on {} {release} at {}",
        h.ckpt_id,
        h.arch.name(),
        h.time
    ));
    if h.arch != arch::ARCH {
        return Err(ctx.bad_image(offset, FormatError::BadArch(h.arch as u32)));
    }
    if h.page_size != uts::page_size() {
        return Err(ctx.bad_image(offset, FormatError::BadValue("page size")));
    }
    Ok(())
}
