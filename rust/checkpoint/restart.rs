// SPDX-License-Identifier: GPL-2.0

//! `restart(2)`: read, validate and restore an image.

use crate::{
    arch, cred,
    ctx::{Ctx, Mode, RecordBuf},
    mm,
    objhash::DefineError,
    sys::{eopnotsupp, uts},
    task,
};
use ckpt_format::{stream::StreamCheck, FormatError, Header, Record, RESTART_FLAGS_MASK};
use kernel::prelude::*;

/// Restarts from the image in `fd`, logging to `logfd`.
///
/// `pid` must be 0: the image is restored into the caller (a coordinator mode
/// that restores a tree built by user space comes with multi-task restart).
pub(crate) fn restart(pid: i32, fd: i32, flags: u64, logfd: i32) -> Result<i64> {
    if flags & !RESTART_FLAGS_MASK != 0 || pid != 0 {
        return Err(EINVAL);
    }
    let mut ctx = Ctx::new(Mode::Restart, fd, logfd)?;
    let mut check = StreamCheck::new();
    let mut buf = RecordBuf::new();
    let mut mem = mm::MemStats::default();
    while !check.is_done() {
        let offset = ctx.offset();
        let rec = ctx.read_record(&mut buf)?;
        check.next(&rec, &mut ctx.objhash).map_err(|e| match e {
            DefineError::Format(e) => ctx.bad_image(offset, e),
            DefineError::Kernel(e) => e,
        })?;
        match rec {
            Record::Header(h) => restore_header(&mut ctx, &h, offset)?,
            Record::Cred(c) => cred::restore_cred(&mut ctx, &c)?,
            Record::Task(t) => task::restore_task(&mut ctx, &t)?,
            Record::CpuX86_64(c) => arch::restore_cpu(&mut ctx, &c)?,
            Record::Xstate(x) => arch::restore_xstate(&mut ctx, &x)?,
            Record::Mm(m) => mm::restore_mm(&mut ctx, &m)?,
            Record::Vma(v) => mm::restore_vma(&mut ctx, &v, &mut mem)?,
            Record::Pages(p) => mm::restore_pages(&mut ctx, &p, &mut mem)?,
            // The stream check refuses error records and ends at the tail.
            Record::Error(_) | Record::Tail(_) => {}
        }
    }
    mm::restore_done(&mut ctx, &mem);
    ctx.run_deferred()?;
    ctx.log(format_args!(
        "image valid ({} bytes, {} shared objects); restoring tasks is not implemented yet",
        ctx.offset(),
        ctx.objhash.count()
    ));
    Err(eopnotsupp())
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
