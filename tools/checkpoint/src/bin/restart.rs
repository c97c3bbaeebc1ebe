// SPDX-License-Identifier: GPL-2.0

//! restart: restart from a checkpoint image.

use ckpt_tools::{errno_name, open_log, Args};
use std::fs::File;
use std::os::fd::AsRawFd;

const USAGE: &str = "\
usage: restart [-i FILE] [-l LOGFILE]

Calls restart(2) on the image in FILE, or on standard input.

  -i, --input FILE  read the image from FILE
  -l, --log FILE    append the kernel's log lines to FILE
  -h, --help        this text

This kernel validates the whole image; restoring its tasks is not
implemented yet, so a valid image ends with EOPNOTSUPP (exit status 3) and
an invalid one with EINVAL (exit status 1). The log says which record is
wrong.";

fn main() {
    let mut args = Args::from_env();
    if args.flag("--help", "-h") {
        println!("{USAGE}");
        return;
    }
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
    match ckpt_tools::restart(0, fd, 0, logfd) {
        Ok(_) => {}
        Err(e) => {
            let n = e.raw_os_error().unwrap_or(0);
            eprintln!("restart: {} ({e})", errno_name(n));
            std::process::exit(if n == libc::EOPNOTSUPP { 3 } else { 1 });
        }
    }
}
