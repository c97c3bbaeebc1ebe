// SPDX-License-Identifier: GPL-2.0

//! checkpoint: take a checkpoint image of a task.

use ckpt_tools::{errno_name, freezer::Frozen, log::Log, Args};

const USAGE: &str = "\
usage: checkpoint PID [-o FILE] [-l LOGFILE] [--freeze] [--kill] [--subtree]
                      [--big-files]

Calls checkpoint(2) on task PID and its descendants (0: this tool itself,
alone) and writes the image to FILE, or to standard output. The tasks must
be frozen by the cgroup v1 or v2 freezer, or checkpoint(2) fails with
EBUSY. A PID that is the init of a pid namespace is saved as a container:
its tasks named by their pids in it, and refused (EBUSY) if one shares an
open file with a task outside. Any other PID is saved as a subtree
(CHECKPOINT_SUBTREE), and the tool says so.

  -o, --output FILE  write the image to FILE (created or truncated; '-':
                     standard output, as without -o)
  -l, --log FILE     append the kernel's log lines to FILE
  -f, --freeze       freeze PID and its descendants (cgroup v2) for the
                     checkpoint, then thaw them
  -k, --kill         kill PID after a successful checkpoint (with --freeze,
                     it and its descendants, before they are thawed)
  -s, --subtree      save the init of a pid namespace as a subtree: no
                     check for sharing, pids as this tool sees them
  -b, --big-files    save unlinked files and shared memory (memfds, shared
                     anonymous memory) of any size; without it, those above
                     8 MiB are refused (EFBIG)
  -h, --help         this text

On a terminal, shows the progress of images over 32 MiB (MiB and pages
saved, rate) on standard error. Prints the checkpoint id on standard
error. Needs ptrace attach access to the task.";

fn main() {
    let mut args = Args::from_env();
    if args.flag("--help", "-h") {
        println!("{USAGE}");
        return;
    }
    let freeze = args.flag("--freeze", "-f");
    let kill = args.flag("--kill", "-k");
    let subtree = args.flag("--subtree", "-s");
    let big_files = args.flag("--big-files", "-b");
    let out = args.value("-o", "--output", USAGE);
    let log = args.value("-l", "--log", USAGE);
    let ops = args.operands(USAGE);
    let pid: i32 = match ops.as_slice() {
        [p] => p
            .parse()
            .unwrap_or_else(|_| ckpt_tools::usage_error(&format!("bad pid {p}"), USAGE)),
        _ => ckpt_tools::usage_error("one PID is needed", USAGE),
    };
    let (_image, fd) = ckpt_tools::open_image(out.as_deref(), true, "checkpoint");
    let mut log = Log::open(log.as_deref(), "checkpoint").unwrap_or_else(|e| {
        eprintln!("checkpoint: log: {e}");
        std::process::exit(2)
    });
    let logfd = log.fd();
    let frozen = freeze.then(|| {
        Frozen::freeze(pid).unwrap_or_else(|e| {
            eprintln!("checkpoint: cannot freeze pid {pid}: {e}");
            std::process::exit(2)
        })
    });
    let flags = if subtree {
        ckpt_format::CHECKPOINT_SUBTREE
    } else if ckpt_tools::is_ns_init(pid) {
        eprintln!("checkpoint: pid {pid} is the init of a pid namespace: saving it as a container");
        0
    } else {
        eprintln!("checkpoint: pid {pid} is not the init of a pid namespace: saving its subtree");
        ckpt_format::CHECKPOINT_SUBTREE
    };
    let flags = match big_files {
        true => flags | ckpt_format::CHECKPOINT_BIG_FILES,
        false => flags,
    };
    let r = ckpt_tools::checkpoint(pid, fd, flags, logfd);
    log.finish();
    match r {
        Ok(id) => eprintln!("checkpoint: pid {pid}: id {id}"),
        Err(e) => {
            let n = e.raw_os_error().unwrap_or(0);
            eprintln!("checkpoint: pid {pid}: {} ({e})", errno_name(n));
            // Dropping `frozen` thaws the task.
            drop(frozen);
            std::process::exit(1);
        }
    }
    if kill {
        let r = match &frozen {
            Some(f) => f.kill(),
            // SAFETY: kill(2) takes only integers.
            None if unsafe { libc::kill(pid, libc::SIGKILL) } == 0 => Ok(()),
            None => Err(std::io::Error::last_os_error()),
        };
        if let Err(e) = r {
            eprintln!("checkpoint: cannot kill pid {pid}: {e}");
            std::process::exit(1);
        }
    }
}
