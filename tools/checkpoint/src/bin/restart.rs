// SPDX-License-Identifier: GPL-2.0

//! restart: restart a program from a checkpoint image.

use ckpt_tools::{errno_name, open_log, Args};
use std::fs::File;
use std::os::fd::AsRawFd;

const USAGE: &str = "\
usage: restart [-i FILE] [-l LOGFILE] [-d] [-f] [-p]

Restarts the programs checkpointed in FILE (or standard input): restart(2)
rebuilds their process tree as children of restart, with their original
pids (which must be free: choosing pids needs CAP_CHECKPOINT_RESTORE), their
memory, registers, open files and credentials, and they resume where they
were stopped. restart then waits for the root of the tree and exits with its
status (128 + N if signal N ended it). Without CAP_CHECKPOINT_RESTORE, an
image of one task is restored with a new pid, and says so. A container
comes back in a new pid namespace, its root its init, its tasks with their
pids in it (needs CAP_SYS_ADMIN).

  -i, --input FILE  read the image from FILE
  -l, --log FILE    append the kernel's log lines to FILE
  -d, --detach      exit once the programs run, printing the root's pid
  -f, --frozen      leave the programs stopped (SIGSTOP) before they run
                    their first instruction, print the root's pid and exit;
                    kill -CONT resumes them
  -p, --pidns       restart them in a new pid namespace, under a small init
                    (a fork of restart) that reaps orphans and ends, with
                    the root's status, when the root does: their pids are
                    free there whatever runs here (needs CAP_SYS_ADMIN)
  -h, --help        this text

Exit status 1 (EINVAL, EBUSY for a pid in use, and others) or 2 (usage,
files) if the image is refused; the log says why.";

fn main() {
    let mut args = Args::from_env();
    if args.flag("--help", "-h") {
        println!("{USAGE}");
        return;
    }
    let detach = args.flag("--detach", "-d");
    let frozen = args.flag("--frozen", "-f");
    let pidns = args.flag("--pidns", "-p");
    let input = args.value("-i", "--input", USAGE);
    let log = args.value("-l", "--log", USAGE);
    if !args.operands(USAGE).is_empty() {
        ckpt_tools::usage_error("no operands are taken", USAGE);
    }
    let file = input.as_deref().map(|p| {
        File::open(p).unwrap_or_else(|e| {
            eprintln!("restart: {p}: {e}");
            std::process::exit(2)
        })
    });
    let fd = file.as_ref().map_or(0, |f| f.as_raw_fd());
    let (_log, logfd) = open_log(log.as_deref()).unwrap_or_else(|e| {
        eprintln!("restart: log: {e}");
        std::process::exit(2)
    });
    let mut flags = ckpt_format::RESTART_TREE;
    if frozen {
        flags |= ckpt_format::RESTART_FROZEN;
    }
    let (root, child) = if pidns {
        in_new_pidns(fd, flags, logfd)
    } else if may_choose_pids() {
        let root = restore(fd, flags, logfd);
        (root, root)
    } else {
        eprintln!(
            "restart: without CAP_CHECKPOINT_RESTORE, pids cannot be chosen: \
             the task of a one-task image comes back with a new pid"
        );
        let pid = into_child(fd, flags & !ckpt_format::RESTART_TREE, logfd);
        (pid, pid)
    };
    drop(file);
    if frozen && !stopped(root, child) {
        eprintln!("restart: program {root} did not stop");
        std::process::exit(1);
    }
    if detach || frozen {
        println!("{root}");
        return;
    }
    std::process::exit(wait(child));
}

/// Calls restart(2) with `flags`; returns the root's pid, or exits with
/// status 1 and the errno.
fn restore(fd: i32, flags: u64, logfd: i32) -> libc::pid_t {
    match ckpt_tools::restart(0, fd, flags, logfd) {
        // CAST: a pid.
        Ok(pid) => pid as libc::pid_t,
        Err(e) => {
            let n = e.raw_os_error().unwrap_or(libc::EIO);
            // A root killed by the failure is a child to reap.
            // SAFETY: waitpid(2) with a null status.
            while unsafe { libc::waitpid(-1, std::ptr::null_mut(), libc::WNOHANG) } > 0 {}
            eprintln!("restart: {} ({e})", errno_name(n));
            std::process::exit(1);
        }
    }
}

/// Whether this tool may choose pids in its pid namespace: its effective
/// capabilities hold `CAP_SYS_ADMIN` (21) or `CAP_CHECKPOINT_RESTORE` (40).
fn may_choose_pids() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let caps = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .unwrap_or(0);
    caps & (1 << 21 | 1 << 40) != 0
}

/// Without the right to choose pids: a child of this tool calls
/// restart(2) without `RESTART_TREE` and becomes the task of a one-task
/// image, with its own pid. Returns its pid, or exits with status 1 and
/// the errno.
fn into_child(fd: i32, flags: u64, logfd: i32) -> libc::pid_t {
    // The child reports a refusal on this pipe. Once restart(2) succeeds,
    // the program's descriptors replace the child's and the pipe reads EOF.
    let mut p = [0; 2];
    // SAFETY: `p` has room for two descriptors.
    if unsafe { libc::pipe(p.as_mut_ptr()) } != 0 {
        eprintln!("restart: pipe: {}", std::io::Error::last_os_error());
        std::process::exit(2);
    }
    // SAFETY: the child only makes system calls before `_exit`.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        eprintln!("restart: fork: {}", std::io::Error::last_os_error());
        std::process::exit(2);
    }
    if pid == 0 {
        let err = match ckpt_tools::restart(0, fd, flags, logfd) {
            Ok(_) => 0,
            Err(e) => e.raw_os_error().unwrap_or(libc::EIO),
        };
        let b = err.to_ne_bytes();
        // SAFETY: writes 4 bytes from `b`, then exits without unwinding.
        unsafe {
            libc::write(p[1], b.as_ptr().cast(), b.len());
            libc::_exit(1)
        }
    }
    let mut b = [0u8; 4];
    // SAFETY: closes the write end this process owns, reads 4 bytes into
    // `b`, closes the read end.
    let n = unsafe {
        libc::close(p[1]);
        let n = libc::read(p[0], b.as_mut_ptr().cast(), b.len());
        libc::close(p[0]);
        n
    };
    if n == 4 {
        let err = i32::from_ne_bytes(b);
        wait(pid);
        eprintln!(
            "restart: {} ({})",
            errno_name(err),
            std::io::Error::from_raw_os_error(err)
        );
        std::process::exit(1);
    }
    pid
}

/// `--pidns`: restarts the tree under a fork of this tool that is the init
/// of a new pid namespace. Returns the root's pid as seen here, and the
/// init's, which ends with the root's status.
fn in_new_pidns(fd: i32, flags: u64, logfd: i32) -> (libc::pid_t, libc::pid_t) {
    // SAFETY: unshare(2) takes only flags.
    if unsafe { libc::unshare(libc::CLONE_NEWPID) } != 0 {
        eprintln!(
            "restart: new pid namespace: {}",
            std::io::Error::last_os_error()
        );
        std::process::exit(2);
    }
    let mut p = [0; 2];
    // SAFETY: `p` has room for two descriptors.
    if unsafe { libc::pipe(p.as_mut_ptr()) } != 0 {
        eprintln!("restart: pipe: {}", std::io::Error::last_os_error());
        std::process::exit(2);
    }
    // SAFETY: the child only makes system calls and exits.
    let init = unsafe { libc::fork() };
    if init < 0 {
        eprintln!("restart: fork: {}", std::io::Error::last_os_error());
        std::process::exit(2);
    }
    if init == 0 {
        // pid 1 of the new namespace. Its errors go to the parent.
        let r = ckpt_tools::restart(0, fd, flags, logfd);
        let err = match &r {
            Ok(_) => 0,
            Err(e) => e.raw_os_error().unwrap_or(libc::EIO),
        };
        let b = err.to_ne_bytes();
        // SAFETY: writes 4 bytes from `b`; closes what this process owns.
        unsafe {
            libc::write(p[1], b.as_ptr().cast(), b.len());
            libc::close(p[1]);
            libc::close(p[0]);
        }
        let Ok(root) = r else {
            // SAFETY: exits without unwinding.
            unsafe { libc::_exit(1) }
        };
        // It holds nothing of the caller's, so that a shell reading the
        // root's pid from restart's output sees its end.
        // SAFETY: closes this process's descriptors, then opens /dev/null
        // as 0, 1 and 2.
        unsafe {
            libc::close_range(0, u32::MAX, 0);
            let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
            libc::dup2(null, 1);
            libc::dup2(null, 2);
        }
        // Reaps orphans until the root ends; its status is the init's.
        loop {
            let mut status = 0;
            // SAFETY: `status` is a valid out-parameter.
            let w = unsafe { libc::waitpid(-1, &mut status, 0) };
            // CAST: a pid.
            if w == root as libc::pid_t {
                // SAFETY: exits without unwinding.
                unsafe { libc::_exit(status_code(w, status)) };
            }
            if w < 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                // SAFETY: exits without unwinding.
                unsafe { libc::_exit(0) };
            }
        }
    }
    // SAFETY: closes the write end this process owns.
    unsafe { libc::close(p[1]) };
    let mut b = [0u8; 4];
    // SAFETY: reads 4 bytes into `b`.
    let n = unsafe { libc::read(p[0], b.as_mut_ptr().cast(), b.len()) };
    // SAFETY: closes the read end this process owns.
    unsafe { libc::close(p[0]) };
    let err = if n == 4 {
        i32::from_ne_bytes(b)
    } else {
        libc::EIO
    };
    if err != 0 {
        wait(init);
        eprintln!(
            "restart: {} ({})",
            errno_name(err),
            std::io::Error::from_raw_os_error(err)
        );
        std::process::exit(1);
    }
    // The root is the init's only child.
    let root = std::fs::read_to_string(format!("/proc/{init}/task/{init}/children"))
        .ok()
        .and_then(|c| c.split_whitespace().next()?.parse().ok())
        .unwrap_or(init);
    (root, init)
}

/// Waits until the restored root stops (`RESTART_FROZEN`): as a child of
/// this tool, or, under `--pidns`, as its `/proc` state says.
fn stopped(root: libc::pid_t, child: libc::pid_t) -> bool {
    if root == child {
        let mut status = 0;
        // SAFETY: `status` is a valid out-parameter.
        let r = unsafe { libc::waitpid(root, &mut status, libc::WUNTRACED) };
        return r == root && libc::WIFSTOPPED(status);
    }
    for _ in 0..1000 {
        let stat = std::fs::read_to_string(format!("/proc/{root}/stat")).unwrap_or_default();
        if stat
            .rsplit(')')
            .next()
            .is_some_and(|r| r.trim_start().starts_with('T'))
        {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    false
}

/// Waits for `pid`; returns its exit status, or 128 + the signal that ended it.
fn wait(pid: libc::pid_t) -> i32 {
    let mut status = 0;
    // SAFETY: `status` is a valid out-parameter.
    while unsafe { libc::waitpid(pid, &mut status, 0) } < 0 {
        if std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return 1;
        }
    }
    status_code(pid, status)
}

/// The exit status of `pid` from its wait status: its own, or 128 + the
/// signal that ended it.
fn status_code(pid: libc::pid_t, status: i32) -> i32 {
    if libc::WIFSIGNALED(status) {
        let sig = libc::WTERMSIG(status);
        eprintln!("restart: program {pid} killed by signal {sig}");
        128 + sig
    } else {
        libc::WEXITSTATUS(status)
    }
}
