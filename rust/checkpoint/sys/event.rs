// SPDX-License-Identifier: GPL-2.0

//! Event files: eventfds, signalfds, timerfds, epoll and inotify files,
//! each read and made again through its own file's functions, without a
//! descriptor.
//!
//! C headers: [`include/linux/eventfd.h`](srctree/include/linux/eventfd.h),
//! [`include/linux/signalfd.h`](srctree/include/linux/signalfd.h),
//! [`include/linux/timerfd.h`](srctree/include/linux/timerfd.h),
//! [`include/linux/eventpoll.h`](srctree/include/linux/eventpoll.h),
//! [`include/linux/inotify.h`](srctree/include/linux/inotify.h)

use super::{
    cred::Cred,
    file::{c_path, File},
};
use ckpt_format::InotifyWatch;
use core::ptr;
use kernel::{bindings, error::to_result, prelude::*, types::ARef};

/// Eventfds.
impl File {
    /// Returns the counter and the `EFD_SEMAPHORE` flag of an eventfd, or
    /// `None` if the file is not one.
    pub(crate) fn eventfd_state(&self) -> Option<(u64, bool)> {
        let (mut count, mut flags) = (0, 0);
        // SAFETY: The file is valid; the function checks that it is an
        // eventfd and reads its counter under its lock.
        let r = unsafe { bindings::eventfd_get_state(self.as_ptr(), &mut count, &mut flags) };
        (r == 0).then_some((count, flags & bindings::EFD_SEMAPHORE != 0))
    }

    /// Creates an eventfd with counter `count`, `EFD_SEMAPHORE` if
    /// `semaphore`, non-blocking if `nonblock`.
    pub(crate) fn new_eventfd(count: u64, semaphore: bool, nonblock: bool) -> Result<ARef<File>> {
        let mut flags = nonblock_flag(nonblock);
        if semaphore {
            flags |= bindings::EFD_SEMAPHORE;
        }
        // CAST: the flags are small positive bits.
        // SAFETY: No preconditions; the function returns a referenced file
        // or an error pointer, which `from_new` takes.
        unsafe { File::from_new(bindings::eventfd_file_create(count, flags as i32)) }
    }
}

/// `O_NONBLOCK` if `nonblock`, else 0.
fn nonblock_flag(nonblock: bool) -> u32 {
    if nonblock {
        bindings::O_NONBLOCK
    } else {
        0
    }
}

/// Signalfds.
impl File {
    /// Returns the signals a signalfd reads (bit `n - 1` for signal `n`),
    /// or `None` if the file is not a signalfd.
    pub(crate) fn signalfd_mask(&self) -> Option<u64> {
        // SAFETY: All-zero bytes are a valid `sigset_t`.
        let mut mask: bindings::sigset_t = unsafe { core::mem::zeroed() };
        // SAFETY: The file is valid; the function checks that it is a
        // signalfd and only writes `mask`.
        let r = unsafe { bindings::signalfd_get_mask(self.as_ptr(), &mut mask) };
        // CAST: `unsigned long` is 64 bits wide on the supported targets.
        (r == 0).then_some(mask.sig[0] as u64)
    }

    /// Creates a signalfd reading the signals of `mask`, non-blocking if
    /// `nonblock`.
    pub(crate) fn new_signalfd(mask: u64, nonblock: bool) -> Result<ARef<File>> {
        // CAST: as in `signalfd_mask`.
        let mask = bindings::sigset_t {
            sig: [mask as usize],
        };
        // CAST: `O_NONBLOCK` is a small positive bit.
        let flags = nonblock_flag(nonblock) as i32;
        // SAFETY: `mask` is valid for the call; the function returns a
        // referenced file or an error pointer, which `from_new` takes.
        unsafe { File::from_new(bindings::signalfd_file_create(&mask, flags)) }
    }
}

/// What a timerfd holds.
pub(crate) struct TimerfdState {
    /// Its clock.
    pub(crate) clock: u32,
    /// The flags it was last armed with (`TFD_TIMER_*`).
    pub(crate) flags: u32,
    /// Nanoseconds to its next expiry, 0 if disarmed.
    pub(crate) value: u64,
    /// Its period in nanoseconds.
    pub(crate) interval: u64,
    /// Expirations not read yet.
    pub(crate) ticks: u64,
}

/// Converts a `timespec64` to nanoseconds (0 if negative, saturating).
fn to_ns(t: &bindings::timespec64) -> u64 {
    // CAST: `tv_nsec` is below one second.
    let ns = (t.tv_sec as i128) * 1_000_000_000 + t.tv_nsec as i128;
    // CAST: clamped to the range of `u64`.
    ns.clamp(0, u64::MAX as i128) as u64
}

/// Converts nanoseconds to a `timespec64`.
fn to_timespec(ns: u64) -> bindings::timespec64 {
    bindings::timespec64 {
        // CAST: below 2^64 / 10^9 seconds, which fits.
        tv_sec: (ns / 1_000_000_000) as i64,
        // CAST: below one second.
        tv_nsec: (ns % 1_000_000_000) as _,
    }
}

/// Timerfds.
impl File {
    /// Returns the state of a timerfd, or `None` if the file is not one.
    pub(crate) fn timerfd_state(&self) -> Option<TimerfdState> {
        let (mut clock, mut flags, mut ticks) = (0, 0, 0);
        // SAFETY: All-zero bytes are a valid `itimerspec64`.
        let mut t: bindings::itimerspec64 = unsafe { core::mem::zeroed() };
        // SAFETY: The file is valid; the function checks that it is a
        // timerfd and writes the out-parameters under the timer's lock.
        let r = unsafe {
            bindings::timerfd_get_state(self.as_ptr(), &mut clock, &mut flags, &mut t, &mut ticks)
        };
        (r == 0).then(|| TimerfdState {
            // CAST: clock ids and flags are small non-negative numbers.
            clock: clock as u32,
            flags: flags as u32,
            value: to_ns(&t.it_value),
            interval: to_ns(&t.it_interval),
            ticks,
        })
    }

    /// Creates a disarmed timerfd on clock `clock`, non-blocking if
    /// `nonblock`, as `timerfd_create()` does (`CAP_WAKE_ALARM` for the
    /// alarm clocks).
    pub(crate) fn new_timerfd(clock: u32, nonblock: bool) -> Result<ARef<File>> {
        let clock = i32::try_from(clock).map_err(|_| EINVAL)?;
        // CAST: `O_NONBLOCK` is a small positive bit.
        let flags = nonblock_flag(nonblock) as i32;
        // SAFETY: No preconditions; the function returns a referenced file
        // or an error pointer, which `from_new` takes.
        unsafe { File::from_new(bindings::timerfd_file_create(clock, flags)) }
    }

    /// Arms a timerfd as `timerfd_settime()` does, with flags `flags`, first
    /// expiry `value` and period `interval` in nanoseconds, then sets the
    /// expirations not read yet to `ticks` if not zero.
    pub(crate) fn timerfd_arm(&self, flags: u32, value: u64, interval: u64, ticks: u64) -> Result {
        let new = bindings::itimerspec64 {
            it_interval: to_timespec(interval),
            it_value: to_timespec(value),
        };
        // SAFETY: All-zero bytes are a valid `itimerspec64`.
        let mut old: bindings::itimerspec64 = unsafe { core::mem::zeroed() };
        let flags = i32::try_from(flags).map_err(|_| EINVAL)?;
        // SAFETY: The file is valid; the function checks that it is a
        // timerfd, and reads `new` and writes `old` only.
        to_result(unsafe { bindings::timerfd_file_settime(self.as_ptr(), flags, &new, &mut old) })?;
        if ticks != 0 {
            // SAFETY: The file is valid and a timerfd.
            to_result(unsafe { bindings::timerfd_set_ticks(self.as_ptr(), ticks) })?;
        }
        Ok(())
    }
}

/// Returns the time of clock `clock` now in nanoseconds, as the caller's time
/// namespace sees it.
pub(crate) fn clock_now(clock: u32) -> u64 {
    let clock = i32::try_from(clock).unwrap_or(-1);
    // SAFETY: No preconditions; an unknown clock reads `CLOCK_MONOTONIC`.
    let ns = unsafe { bindings::ckpt_clock_ns(clock) };
    u64::try_from(ns).unwrap_or(0)
}

/// A watch of an epoll file.
pub(crate) struct Watch {
    /// The watched file.
    pub(crate) file: ARef<File>,
    /// The descriptor the watch was added under.
    pub(crate) fd: i32,
    /// Its events and flags.
    pub(crate) events: u32,
    /// The data returned with its events.
    pub(crate) data: u64,
}

/// Epoll files.
impl File {
    /// Returns true if the file is an epoll file.
    pub(crate) fn is_epoll(&self) -> bool {
        match self.epoll_next_watch(None) {
            Ok(_) => true,
            Err(e) => e != EINVAL,
        }
    }

    /// Returns the watch of an epoll file after `after` (the first if
    /// `None`), in an order of the epoll's own, or `None` after the last;
    /// `EINVAL` if the file is not an epoll file.
    pub(crate) fn epoll_next_watch(&self, after: Option<&Watch>) -> Result<Option<Watch>> {
        let (after, after_fd) = after.map_or((ptr::null_mut(), -1), |w| (w.file.as_ptr(), w.fd));
        let mut tfile = ptr::null_mut();
        let mut fd = 0;
        // SAFETY: All-zero bytes are a valid `epoll_event`.
        let mut ev: bindings::epoll_event = unsafe { core::mem::zeroed() };
        // SAFETY: The file is valid; `after` is only compared; the function
        // checks that the file is an epoll file, and on a return of 1 has
        // written every out-parameter, with a reference on `tfile`.
        let r = unsafe {
            bindings::eventpoll_next_watch(
                self.as_ptr(),
                after,
                after_fd,
                &mut tfile,
                &mut fd,
                &mut ev,
            )
        };
        to_result(r)?;
        if r == 0 {
            return Ok(None);
        }
        // SAFETY: As above: `tfile` is a file with a reference, given here.
        let file = unsafe { File::from_new(tfile) }?;
        Ok(Some(Watch {
            file,
            fd,
            events: ev.events,
            data: ev.data,
        }))
    }

    /// Creates an epoll file with no watches.
    pub(crate) fn new_epoll() -> Result<ARef<File>> {
        // SAFETY: No preconditions; the function returns a referenced file
        // or an error pointer, which `from_new` takes.
        unsafe { File::from_new(bindings::eventpoll_file_create(0)) }
    }

    /// Adds a watch on `target` under descriptor `fd` to an epoll file, as
    /// `epoll_ctl(EPOLL_CTL_ADD)` does, with all its checks.
    pub(crate) fn epoll_add(&self, target: &File, fd: i32, events: u32, data: u64) -> Result {
        let mut ev = bindings::epoll_event { events, data };
        // CAST: `EPOLL_CTL_ADD` is 1.
        let op = bindings::EPOLL_CTL_ADD as i32;
        // SAFETY: Both files are valid; the function checks that the first
        // is an epoll file and only reads and writes `ev`.
        to_result(unsafe {
            bindings::epoll_ctl_file(self.as_ptr(), op, target.as_ptr(), fd, &mut ev, false)
        })
    }
}

/// Inotify files (glue: sys/event.c).
impl File {
    /// Returns true if the file is an inotify file.
    pub(crate) fn is_inotify(&self) -> bool {
        // SAFETY: The file is valid; the function compares its ops.
        unsafe { bindings::ckpt_file_is_inotify(self.as_ptr()) }
    }

    /// Copies the events an inotify file holds unread into `buf`, as
    /// `read()` would give them, without taking them; returns their
    /// length, or `E2BIG` if they do not fit.
    pub(crate) fn inotify_events(&self, buf: &mut [u8]) -> Result<usize> {
        // SAFETY: The file is valid and an inotify file; `buf` is writable
        // for its length, which the function does not write past.
        let n = unsafe {
            bindings::ckpt_inotify_events(self.as_ptr(), buf.as_mut_ptr().cast(), buf.len())
        };
        // CAST: `ssize_t` errnos are small negative numbers.
        usize::try_from(n).map_err(|_| Error::from_errno(n as i32))
    }

    /// Queues an event on an inotify file: watch `wd`, `mask`, `cookie`
    /// and `name` (an entry name, at most `NAME_MAX` bytes).
    pub(crate) fn inotify_queue(&self, wd: i32, mask: u32, cookie: u32, name: &[u8]) -> Result {
        // SAFETY: The file is valid and an inotify file; `name` is readable
        // for its length, which the function checks.
        to_result(unsafe {
            bindings::ckpt_inotify_queue(
                self.as_ptr(),
                wd,
                mask,
                cookie,
                name.as_ptr().cast(),
                name.len(),
            )
        })
    }

    /// Returns the watch of an inotify file with the smallest wd at least
    /// `from`, its path in `buf`, or `None` after the last; `EOPNOTSUPP`
    /// if the inode has no name in reach of the caller's root.
    pub(crate) fn inotify_next_watch<'b>(
        &self,
        from: i32,
        buf: &'b mut [u8],
    ) -> Result<Option<InotifyWatch<'b>>> {
        let len = i32::try_from(buf.len()).map_err(|_| EINVAL)?;
        let (mut wd, mut mask) = (from, 0);
        // SAFETY: The file is valid; `buf` is writable for `len` bytes; the
        // function writes `wd`, `mask` and the path into `buf`, and returns
        // a pointer into `buf`, null, or an error pointer.
        let p = unsafe {
            bindings::ckpt_inotify_next_watch(
                self.as_ptr(),
                &mut wd,
                &mut mask,
                buf.as_mut_ptr().cast(),
                len,
            )
        };
        if p.is_null() {
            return Ok(None);
        }
        let p = kernel::error::from_err_ptr(p)?;
        let path = super::in_buf(buf, p)?;
        Ok(Some(InotifyWatch { wd, mask, path }))
    }

    /// Creates an inotify file, non-blocking if `nonblock`.
    pub(crate) fn new_inotify(nonblock: bool) -> Result<ARef<File>> {
        // SAFETY: No preconditions; the function returns a referenced file
        // or an error pointer, which `from_new` takes.
        unsafe { File::from_new(bindings::ckpt_inotify_create(nonblock)) }
    }

    /// Adds to an inotify file the watch `w`, its path looked up and
    /// checked as a task with credentials `cred`, as `inotify_add_watch()`
    /// would, under its own wd.
    pub(crate) fn inotify_add(&self, w: &InotifyWatch<'_>, cred: &Cred) -> Result {
        let c = c_path(w.path)?;
        // SAFETY: The file is valid, `c` NUL-terminated, `cred` valid; the
        // function checks that the file is an inotify file.
        to_result(unsafe {
            bindings::ckpt_inotify_add_watch(
                self.as_ptr(),
                c.as_ptr().cast(),
                w.mask,
                w.wd,
                cred.as_ptr().cast_const(),
            )
        })
    }
}
