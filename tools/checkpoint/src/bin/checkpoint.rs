// SPDX-License-Identifier: GPL-2.0

//! checkpoint: take a checkpoint image of a task.

use ckpt_tools::{errno_name, open_log, Args};
use std::fs::File;
use std::os::fd::AsRawFd;

const USAGE: &str = "\
usage: checkpoint PID [-o FILE] [-l LOGFILE]

Calls checkpoint(2) on task PID (0: this tool itself) and writes the image
to FILE, or to standard output.

  -o, --output FILE  write the image to FILE (created or truncated)
  -l, --log FILE     append the kernel's log lines to FILE
  -h, --help         this text

Prints the checkpoint id on standard error. Needs ptrace attach access to
the task.";

fn main() {
    let mut args = Args::from_env();
    if args.flag("--help", "-h") {
        println!("{USAGE}");
        return;
    }
    let out = args.value("-o", "--output", USAGE);
    let log = args.value("-l", "--log", USAGE);
    let ops = args.operands(USAGE);
    let pid: i32 = match ops.as_slice() {
        [p] => p
            .parse()
            .unwrap_or_else(|_| ckpt_tools::usage_error(&format!("bad pid {p}"), USAGE)),
        _ => ckpt_tools::usage_error("one PID is needed", USAGE),
    };
    let file = out.as_deref().map(|p| {
        File::create(p).unwrap_or_else(|e| {
            eprintln!("checkpoint: {p}: {e}");
            std::process::exit(2)
        })
    });
    let fd = file.as_ref().map_or(1, |f| f.as_raw_fd());
    let (_log, logfd) = open_log(log.as_deref()).unwrap_or_else(|e| {
        eprintln!("checkpoint: log: {e}");
        std::process::exit(2)
    });
    match ckpt_tools::checkpoint(pid, fd, 0, logfd) {
        Ok(id) => eprintln!("checkpoint: pid {pid}: id {id}"),
        Err(e) => {
            let n = e.raw_os_error().unwrap_or(0);
            eprintln!("checkpoint: pid {pid}: {} ({e})", errno_name(n));
            std::process::exit(1);
        }
    }
}
