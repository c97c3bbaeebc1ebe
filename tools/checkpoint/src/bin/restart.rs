// SPDX-License-Identifier: GPL-2.0

//! restart: restart a program from a checkpoint image.

use ckpt_tools::{errno_name, open_log, Args};
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd};

const USAGE: &str = "\
usage: restart [-i FILE] [-l LOGFILE] [-d] [-f]

Restarts the program checkpointed in FILE (or standard input): a child of
restart calls restart(2) and becomes that program, with its memory,
registers, open files and credentials, and resumes where it was stopped
(with a new pid). restart then waits for it and exits with its status
(128 + N if signal N ended it).

  -i, --input FILE  read the image from FILE
  -l, --log FILE    append the kernel's log lines to FILE
  -d, --detach      exit once the program runs, printing its pid
  -f, --frozen      leave the program stopped (SIGSTOP) before it runs its
                    first instruction, print its pid and exit; kill -CONT
                    resumes it
  -h, --help        this text

Exit status 1 (EINVAL and others) or 2 (usage, files) if the image is
refused; the log says why.";

fn main() {
    let mut args = Args::from_env();
    if args.flag("--help", "-h") {
        println!("{USAGE}");
        return;
    }
    let detach = args.flag("--detach", "-d");
    let frozen = args.flag("--frozen", "-f");
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
    // The child reports a refusal on this pipe. Once restart(2) succeeds, the
    // program's descriptors replace the child's and the pipe reads EOF.
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
        let flags = if frozen {
            ckpt_format::RESTART_FROZEN
        } else {
            0
        };
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
    // SAFETY: both descriptors were just created and are owned here.
    let mut rd = unsafe { File::from_raw_fd(p[0]) };
    // SAFETY: as above.
    unsafe { libc::close(p[1]) };
    let mut b = [0u8; 4];
    if rd.read_exact(&mut b).is_ok() {
        let n = i32::from_ne_bytes(b);
        wait(pid);
        eprintln!(
            "restart: {} ({})",
            errno_name(n),
            std::io::Error::from_raw_os_error(n)
        );
        std::process::exit(1);
    }
    if frozen {
        let mut status = 0;
        // SAFETY: `status` is a valid out-parameter.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WUNTRACED) };
        if r != pid || !libc::WIFSTOPPED(status) {
            eprintln!("restart: program {pid} did not stop");
            std::process::exit(1);
        }
    }
    if detach || frozen {
        println!("{pid}");
        return;
    }
    std::process::exit(wait(pid));
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
    if libc::WIFSIGNALED(status) {
        let sig = libc::WTERMSIG(status);
        eprintln!("restart: program {pid} killed by signal {sig}");
        128 + sig
    } else {
        libc::WEXITSTATUS(status)
    }
}
