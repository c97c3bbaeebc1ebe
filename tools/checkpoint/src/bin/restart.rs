// SPDX-License-Identifier: GPL-2.0

//! restart: restart a program from a checkpoint image.

use ckpt_tools::{errno_name, log::Log, Args};

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

  -i, --input FILE  read the image from FILE ('-': standard input, as
                    without -i)
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

On a terminal, shows the progress of images over 32 MiB (MiB and pages
restored, rate) on standard error.

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
    let (file, fd) = ckpt_tools::open_image(input.as_deref(), false, "restart");
    let mut log = Log::open(log.as_deref(), "restart").unwrap_or_else(|e| {
        eprintln!("restart: log: {e}");
        std::process::exit(2)
    });
    let logfd = log.fd();
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
    log.finish();
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

/// What the child of [`fork_restart`] said of its restart(2).
enum Report {
    /// It restored the tree, and goes on.
    Done,
    /// It was refused, with this errno.
    Refused(i32),
    /// It closed the pipe without a word: it became the program of the
    /// image, whose descriptors replaced its own.
    Replaced,
}

/// Forks a child that calls restart(2) with `flags` and reports on a pipe;
/// once restart(2) returns the root's pid, the child goes on with
/// `then(root)`. Returns the child's pid and its report.
fn fork_restart(fd: i32, flags: u64, logfd: i32, then: fn(i64) -> !) -> (libc::pid_t, Report) {
    let mut p = [0; 2];
    // SAFETY: `p` has room for two descriptors.
    if unsafe { libc::pipe(p.as_mut_ptr()) } != 0 {
        eprintln!("restart: pipe: {}", std::io::Error::last_os_error());
        std::process::exit(2);
    }
    // SAFETY: the child only makes system calls before it exits or goes
    // on as `then` says.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        eprintln!("restart: fork: {}", std::io::Error::last_os_error());
        std::process::exit(2);
    }
    if pid == 0 {
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
        match r {
            Ok(root) => then(root),
            // SAFETY: exits without unwinding.
            Err(_) => unsafe { libc::_exit(1) },
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
    let report = match n {
        4 => match i32::from_ne_bytes(b) {
            0 => Report::Done,
            err => Report::Refused(err),
        },
        _ => Report::Replaced,
    };
    (pid, report)
}

/// Reaps `child`, which reported `err`, says why the image was refused
/// and exits with status 1.
fn refused(child: libc::pid_t, err: i32) -> ! {
    wait(child);
    eprintln!(
        "restart: {} ({})",
        errno_name(err),
        std::io::Error::from_raw_os_error(err)
    );
    std::process::exit(1);
}

/// Without the right to choose pids: a child of this tool calls
/// restart(2) without `RESTART_TREE` and becomes the task of a one-task
/// image, with its own pid. Returns its pid, or exits with status 1 and
/// the errno.
fn into_child(fd: i32, flags: u64, logfd: i32) -> libc::pid_t {
    // Once restart(2) succeeds it returns in the program, not here.
    // SAFETY: exits without unwinding.
    let (pid, report) = fork_restart(fd, flags, logfd, |_| unsafe { libc::_exit(1) });
    match report {
        Report::Refused(err) => refused(pid, err),
        Report::Done | Report::Replaced => pid,
    }
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
    // Its child is pid 1 of the new namespace.
    let (init, report) = fork_restart(fd, flags, logfd, be_init);
    match report {
        Report::Done => {}
        Report::Refused(err) => refused(init, err),
        Report::Replaced => refused(init, libc::EIO),
    }
    // The root is the init's only child.
    let root = std::fs::read_to_string(format!("/proc/{init}/task/{init}/children"))
        .ok()
        .and_then(|c| c.split_whitespace().next()?.parse().ok())
        .unwrap_or(init);
    (root, init)
}

/// The init of `--pidns`'s namespace, once the tree of `root` is restored:
/// it reaps orphans until the root ends, and ends with its status.
fn be_init(root: i64) -> ! {
    // It holds nothing of the caller's, so that a shell reading the root's
    // pid from restart's output sees its end.
    // SAFETY: closes this process's descriptors, then opens /dev/null as
    // 0, 1 and 2.
    unsafe {
        libc::close_range(0, u32::MAX, 0);
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        libc::dup2(null, 1);
        libc::dup2(null, 2);
    }
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
