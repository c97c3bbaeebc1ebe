// SPDX-License-Identifier: GPL-2.0

//! Installs what the pipeline needs on a Debian 12 machine, when missing.

use crate::util::{home, info, run, step, succeeds, Result};
use std::process::Command;

/// Debian packages: kernel source, LLVM toolchain, build tools, QEMU, and
/// udev (virtme-ng's guest init finds its I/O ports through it).
const PACKAGES: &[&str] = &[
    "linux-source-6.12",
    "clang-19",
    "lld-19",
    "llvm-19",
    "libclang-19-dev",
    "flex",
    "bison",
    "bc",
    "libelf-dev",
    "libssl-dev",
    "cpio",
    "make",
    "gcc",
    "git",
    "qemu-system-x86",
    "udev",
    // The benchmark's peer (Debian's CRIU 3.17).
    "criu",
];

fn installed(pkg: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", pkg])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
}

fn cargo() -> Command {
    Command::new(home().join(".cargo/bin/cargo"))
}

/// Installs missing packages and tools. With `fuzz`, also cargo-fuzz.
pub fn ensure(fuzz: bool) -> Result {
    step("checking prerequisites");
    let missing: Vec<&str> = PACKAGES.iter().copied().filter(|p| !installed(p)).collect();
    if !missing.is_empty() {
        info(&format!(
            "installing Debian packages: {}",
            missing.join(" ")
        ));
        let sudo = if is_root() { vec![] } else { vec!["sudo"] };
        let apt = |args: &[&str]| {
            let mut c = if sudo.is_empty() {
                Command::new("apt-get")
            } else {
                let mut c = Command::new("sudo");
                c.arg("apt-get");
                c
            };
            c.args(args).env("DEBIAN_FRONTEND", "noninteractive");
            c
        };
        run(apt(&["update", "-qq"]).stdout(std::process::Stdio::null()))?;
        let mut install = apt(&["install", "-y", "-qq", "--no-install-recommends"]);
        install.args(&missing).stdout(std::process::Stdio::null());
        run(&mut install)?;
    }

    let sysroot = crate::util::output(Command::new("rustc").args(["--print", "sysroot"]))?;
    if !std::path::Path::new(sysroot.trim())
        .join("lib/rustlib/src/rust/library/core")
        .exists()
    {
        info("adding the rust-src component");
        run(Command::new("rustup").args(["component", "add", "rust-src"]))?;
    }
    if !succeeds(Command::new(home().join(".cargo/bin/bindgen")).arg("--version")) {
        info("installing bindgen-cli (about 2 minutes)");
        run(cargo().args(["install", "--locked", "bindgen-cli"]))?;
    }
    if !succeeds(Command::new("vng").arg("--version")) {
        info("installing virtme-ng");
        run(Command::new("python3").args(["-m", "pip", "install", "-q", "virtme-ng"]))?;
    }
    if fuzz && !succeeds(cargo().args(["fuzz", "--version"])) {
        info("installing cargo-fuzz");
        run(cargo().args(["install", "--locked", "cargo-fuzz"]))?;
    }
    Ok(())
}

/// Returns true when running as root (`id -u` is 0).
fn is_root() -> bool {
    crate::util::output(Command::new("id").arg("-u")).is_ok_and(|s| s.trim() == "0")
}

/// Returns true if a nightly toolchain is installed (for cargo fuzz).
pub fn have_nightly() -> bool {
    succeeds(Command::new("rustup").args(["run", "nightly", "rustc", "--version"]))
}
