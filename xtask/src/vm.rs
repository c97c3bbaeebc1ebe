// SPDX-License-Identifier: GPL-2.0

//! Booting the built kernel under QEMU (TCG) with virtme-ng, and reading its
//! kernel log.
//!
//! The guest sees the host's root filesystem (so this repository at the same
//! path), has the user tools on PATH, and writes its kernel log continuously
//! to the run directory, so that even a guest that hangs leaves its log.

use crate::util::{info, step, Paths, Result};
use std::fs;
use std::process::Command;

/// What a guest run produced.
pub struct GuestRun {
    /// Exit status of the command (None: the guest did not finish).
    pub status: Option<i32>,
    /// The guest's kernel log.
    pub dmesg: String,
}

/// Boots the kernel and runs the shell script `body` in the guest, with a
/// timeout. The script is written to the run directory as `name` (so that
/// it needs no quoting on the way).
pub fn run_script_in_guest(p: &Paths, name: &str, body: &str, timeout_s: u64) -> Result<GuestRun> {
    let path = p.run().join(name);
    fs::create_dir_all(p.run()).map_err(|e| e.to_string())?;
    fs::write(&path, body).map_err(|e| e.to_string())?;
    run_in_guest(p, &format!("sh {}", path.display()), timeout_s)
}

/// Boots the kernel, runs `cmd` with `sh -c` in the guest, with a timeout.
pub fn run_in_guest(p: &Paths, cmd: &str, timeout_s: u64) -> Result<GuestRun> {
    run_in_guest_with(p, cmd, timeout_s, &[], "2G")
}

/// [`run_in_guest`], with `boot` added to the kernel's command line, in a
/// guest of `memory` (as QEMU's `-m`: "2G").
pub fn run_in_guest_with(
    p: &Paths,
    cmd: &str,
    timeout_s: u64,
    boot: &[&str],
    memory: &str,
) -> Result<GuestRun> {
    if !p.bzimage().exists() {
        return Err("no kernel built: run `cargo xtask kernel` first".into());
    }
    let run = p.run();
    fs::create_dir_all(&run).map_err(|e| e.to_string())?;
    let dmesg = run.join("dmesg.txt");
    let _ = fs::remove_file(&dmesg);
    let script = run.join("guest.sh");
    let body = format!(
        "#!/bin/sh\n\
         # Written by cargo xtask: runs in the guest.\n\
         dmesg -w > '{dmesg}' 2>&1 &\n\
         DMESG_PID=$!\n\
         export PATH='{tools}':\"$PATH\"\n\
         export CKPT_SELFTESTS='{selftests}'\n\
         cd '{repo}'\n\
         sh -c \"$1\"\n\
         rc=$?\n\
         sleep 0.3\n\
         kill $DMESG_PID 2>/dev/null\n\
         exit $rc\n",
        dmesg = dmesg.display(),
        tools = p.tools().display(),
        selftests = p.selftests().display(),
        repo = p.repo.display(),
    );
    fs::write(&script, body).map_err(|e| e.to_string())?;

    step(&format!("booting Linux in QEMU (TCG) to run: {cmd}"));
    // Quote the command for the guest shell.
    let quoted = format!("'{}'", cmd.replace('\'', "'\\''"));
    let status = Command::new("timeout")
        .args([
            "--foreground",
            "-k",
            "10",
            &timeout_s.to_string(),
            "vng",
            "--run",
        ])
        .arg(p.bzimage())
        .args([
            "--disable-kvm",
            "--cpus",
            "2",
            "--memory",
            memory,
            "--rwdir",
        ])
        .arg(&run)
        .args(boot.iter().flat_map(|b| ["--append", b]))
        .arg("--")
        .arg(format!("sh {} {quoted}", script.display()))
        .stdin(std::process::Stdio::null())
        .status()
        .map_err(|e| format!("cannot run vng: {e}"))?;
    let code = status.code();
    let status = match code {
        Some(124) | Some(137) | None => {
            info(&format!("the guest did not finish within {timeout_s} s"));
            None
        }
        c => c,
    };
    let dmesg = fs::read_to_string(&dmesg).unwrap_or_default();
    Ok(GuestRun { status, dmesg })
}

/// Lines of a kernel log that show a kernel bug, whatever the tests said.
pub fn kernel_problems(dmesg: &str) -> Vec<String> {
    const BAD: &[&str] = &[
        "Oops",
        "BUG:",
        "kernel BUG at",
        "WARNING:",
        "KASAN:",
        "UBSAN:",
        "general protection fault",
        "Kernel panic",
        "possible circular locking dependency",
        "possible recursive locking",
        "inconsistent lock state",
        "suspicious RCU usage",
        "blocked for more than",
        "rust_panic",
        "panicked at",
    ];
    dmesg
        .lines()
        .filter(|l| BAD.iter().any(|b| l.contains(b)))
        .map(str::to_string)
        .collect()
}

/// Results of the KUnit suite `suite` in a kernel log: (passed, failed names).
pub fn kunit_results(dmesg: &str, suite: &str) -> (usize, Vec<String>) {
    let mut inside = false;
    let mut passed = 0;
    let mut failed = Vec::new();
    for l in dmesg.lines() {
        // Strip the "[    1.234567] " timestamp.
        let l = l.find("] ").map_or(l, |i| &l[i + 2..]);
        if l.trim_start() == format!("# Subtest: {suite}") {
            inside = true;
            continue;
        }
        if !inside {
            continue;
        }
        let t = l.trim_start();
        let indented = l.starts_with("    ");
        if indented && t.starts_with("ok ") {
            passed += 1;
        } else if indented && t.starts_with("not ok ") {
            failed.push(t.to_string());
        } else if !indented && (t.starts_with("ok ") || t.starts_with("not ok ")) {
            break;
        }
    }
    (passed, failed)
}
