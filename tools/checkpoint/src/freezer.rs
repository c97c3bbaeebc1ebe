// SPDX-License-Identifier: GPL-2.0

//! Freezing a task with the cgroup v2 freezer for the time of a checkpoint.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const ROOT: &str = "/sys/fs/cgroup";

/// A task moved into a cgroup of its own and frozen; thawed and moved back
/// when dropped.
pub struct Frozen {
    pid: i32,
    dir: PathBuf,
    origin: PathBuf,
}

fn wait_for(file: &Path, want: &str) -> io::Result<()> {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if fs::read_to_string(file)?.contains(want) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Err(io::Error::new(
        io::ErrorKind::TimedOut,
        format!("{} never showed '{want}'", file.display()),
    ))
}

/// Returns the cgroup v2 directory of `pid`.
fn cgroup_of(pid: i32) -> io::Result<PathBuf> {
    let text = fs::read_to_string(format!("/proc/{pid}/cgroup"))?;
    let rel = text
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .ok_or_else(|| io::Error::other("no cgroup v2 hierarchy"))?;
    Ok(Path::new(ROOT).join(rel.trim_start_matches('/')))
}

impl Frozen {
    /// Freezes `pid` in a new cgroup under the cgroup v2 root.
    pub fn freeze(pid: i32) -> io::Result<Self> {
        let origin = cgroup_of(pid)?;
        let dir = Path::new(ROOT).join(format!("checkpoint-{pid}-{}", std::process::id()));
        fs::create_dir(&dir)?;
        let f = Frozen { pid, dir, origin };
        fs::write(f.dir.join("cgroup.procs"), pid.to_string())?;
        fs::write(f.dir.join("cgroup.freeze"), "1")?;
        wait_for(&f.dir.join("cgroup.events"), "frozen 1")?;
        Ok(f)
    }

    /// Kills the frozen task (a fatal signal ends a frozen task too).
    pub fn kill(&self) -> io::Result<()> {
        // SAFETY: kill(2) takes only integers.
        if unsafe { libc::kill(self.pid, libc::SIGKILL) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        let _ = fs::write(self.dir.join("cgroup.freeze"), "0");
        let _ = fs::write(self.origin.join("cgroup.procs"), self.pid.to_string());
        for _ in 0..200 {
            if fs::remove_dir(&self.dir).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}
