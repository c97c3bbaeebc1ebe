// SPDX-License-Identifier: GPL-2.0

//! Shared code of the checkpoint/restart user tools: the system calls, image
//! decoding for display, and argument handling.

pub mod freezer;
pub mod json;
pub mod log;
pub mod show;

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, RawFd};

/// Numbers of the system calls, per architecture. System calls added since
/// Linux 5.1 have one number on every architecture of the unified table
/// (alpha excepted), so the supported ones share them.
#[cfg(any(
    target_arch = "x86_64",
    target_arch = "x86",
    target_arch = "s390x",
    target_arch = "powerpc64",
    target_arch = "aarch64"
))]
mod nr {
    /// `checkpoint(2)`.
    pub const CHECKPOINT: libc::c_long = 463;
    /// `restart(2)`.
    pub const RESTART: libc::c_long = 464;
    /// `eclone(2)`.
    pub const ECLONE: libc::c_long = 465;
}

/// Number of `checkpoint(2)` on this architecture.
pub const NR_CHECKPOINT: libc::c_long = nr::CHECKPOINT;
/// Number of `restart(2)` on this architecture.
pub const NR_RESTART: libc::c_long = nr::RESTART;
/// Number of `eclone(2)` on this architecture.
pub const NR_ECLONE: libc::c_long = nr::ECLONE;

/// Calls `checkpoint(pid, fd, flags, logfd)`; returns the checkpoint id.
pub fn checkpoint(pid: i32, fd: RawFd, flags: u64, logfd: RawFd) -> io::Result<i64> {
    // SAFETY: The syscall takes only integers.
    let r = unsafe { libc::syscall(NR_CHECKPOINT, pid, fd, flags, logfd) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// Calls `restart(pid, fd, flags, logfd)`.
pub fn restart(pid: i32, fd: RawFd, flags: u64, logfd: RawFd) -> io::Result<i64> {
    // SAFETY: The syscall takes only integers.
    let r = unsafe { libc::syscall(NR_RESTART, pid, fd, flags, logfd) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// Returns whether task `pid` (0: the caller) is the init of its pid
/// namespace: the last of its pids in `/proc/PID/status` (`NSpid:`) is 1.
pub fn is_ns_init(pid: i32) -> bool {
    let path = match pid {
        0 => "/proc/self/status".to_string(),
        p => format!("/proc/{p}/status"),
    };
    std::fs::read_to_string(path).is_ok_and(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("NSpid:"))
            .and_then(|l| l.split_whitespace().last())
            == Some("1")
    })
}

/// Returns the symbolic name of a positive errno (`EINVAL`), or its number.
pub fn errno_name(e: i32) -> String {
    const NAMES: &[(i32, &str)] = &[
        (libc::EPERM, "EPERM"),
        (libc::ENOENT, "ENOENT"),
        (libc::ESRCH, "ESRCH"),
        (libc::EINTR, "EINTR"),
        (libc::EIO, "EIO"),
        (libc::EBADF, "EBADF"),
        (libc::ENOMEM, "ENOMEM"),
        (libc::EACCES, "EACCES"),
        (libc::EFAULT, "EFAULT"),
        (libc::EBUSY, "EBUSY"),
        (libc::EEXIST, "EEXIST"),
        (libc::EINVAL, "EINVAL"),
        (libc::ENOSPC, "ENOSPC"),
        (libc::EPIPE, "EPIPE"),
        (libc::ENOSYS, "ENOSYS"),
        (libc::ENODATA, "ENODATA"),
        (libc::EOPNOTSUPP, "EOPNOTSUPP"),
    ];
    NAMES
        .iter()
        .find(|(n, _)| *n == e)
        .map_or_else(|| format!("errno {e}"), |(_, name)| (*name).to_string())
}

/// Opens the image of `tool` at `path` for writing (created or truncated)
/// or reading; without one, or with "-", standard output or input. Exits
/// with status 2 if it cannot. Returns the file (None for a standard
/// stream) and its descriptor, a pipe of which is widened ([`widen_pipe`]).
pub fn open_image(path: Option<&str>, write: bool, tool: &str) -> (Option<File>, RawFd) {
    let file = path.filter(|p| *p != "-").map(|p| {
        let r = match write {
            true => File::create(p),
            false => File::open(p),
        };
        r.unwrap_or_else(|e| {
            eprintln!("{tool}: {p}: {e}");
            std::process::exit(2)
        })
    });
    let fd = file
        .as_ref()
        .map_or(if write { 1 } else { 0 }, |f| f.as_raw_fd());
    widen_pipe(fd);
    (file, fd)
}

/// Gives a pipe that carries an image room for 1 MiB (the most an
/// unprivileged process may ask by default), so that the kernel and the
/// other end trade it in large steps rather than 64 KiB ones. Other files,
/// and a pipe that cannot grow, are left as they are.
pub fn widen_pipe(fd: RawFd) {
    // SAFETY: all-zero bytes are a valid `stat`, which fstat(2) fills.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fstat(2) writes into `st`; fcntl(2) takes integers.
    unsafe {
        if libc::fstat(fd, &mut st) == 0 && st.st_mode & libc::S_IFMT == libc::S_IFIFO {
            libc::fcntl(fd, libc::F_SETPIPE_SZ, 1 << 20);
        }
    }
}

/// Prints `msg` and the usage text, and exits with status 2.
pub fn usage_error(msg: &str, usage: &str) -> ! {
    eprintln!("{msg}\n\n{usage}");
    std::process::exit(2)
}

/// Splits `args` into options with values (`-x VALUE`), flags and operands.
pub struct Args {
    items: Vec<String>,
}

impl Args {
    /// Takes the program's arguments, without its name.
    pub fn from_env() -> Self {
        Self {
            items: std::env::args().skip(1).collect(),
        }
    }

    /// Removes `flag` (and `alias`) if present; returns whether it was.
    pub fn flag(&mut self, flag: &str, alias: &str) -> bool {
        let before = self.items.len();
        self.items.retain(|a| a != flag && a != alias);
        before != self.items.len()
    }

    /// Removes `opt VALUE` (or `alias VALUE`) and returns VALUE.
    pub fn value(&mut self, opt: &str, alias: &str, usage: &str) -> Option<String> {
        let i = self.items.iter().position(|a| a == opt || a == alias)?;
        if i + 1 >= self.items.len() {
            usage_error(&format!("{opt} needs a value"), usage);
        }
        let v = self.items.remove(i + 1);
        self.items.remove(i);
        Some(v)
    }

    /// Returns the remaining operands; fails on unknown options.
    pub fn operands(self, usage: &str) -> Vec<String> {
        if let Some(a) = self
            .items
            .iter()
            .find(|a| a.starts_with('-') && a.len() > 1)
        {
            usage_error(&format!("unknown option {a}"), usage);
        }
        self.items
    }
}
