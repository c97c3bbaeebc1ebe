// SPDX-License-Identifier: GPL-2.0

//! Freezing a task and its descendants with the cgroup v2 freezer for the
//! time of a checkpoint.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const ROOT: &str = "/sys/fs/cgroup";

/// A task and its descendants moved into a cgroup of their own and frozen;
/// thawed and moved back when dropped.
pub struct Frozen {
    pids: Vec<i32>,
    dir: PathBuf,
    origin: PathBuf,
}

/// The children of `pid` (of each of its threads).
fn children(pid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for t in tasks.flatten() {
        let path = t.path().join("children");
        if let Ok(text) = fs::read_to_string(path) {
            out.extend(
                text.split_whitespace()
                    .filter_map(|p| p.parse::<i32>().ok()),
            );
        }
    }
    out
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
    /// Freezes `pid` and its descendants in a new cgroup under the cgroup v2
    /// root. A child forked after its parent moved is in the cgroup already;
    /// one forked before is moved by the next pass, until a pass finds none.
    pub fn freeze(pid: i32) -> io::Result<Self> {
        let origin = cgroup_of(pid)?;
        let dir = Path::new(ROOT).join(format!("checkpoint-{pid}-{}", std::process::id()));
        fs::create_dir(&dir)?;
        let mut f = Frozen {
            pids: Vec::new(),
            dir,
            origin,
        };
        let procs = f.dir.join("cgroup.procs");
        let mut next = vec![pid];
        while let Some(p) = next.pop() {
            if !f.pids.contains(&p) {
                fs::write(&procs, p.to_string())?;
                f.pids.push(p);
            }
            next.extend(children(p).into_iter().filter(|c| !f.pids.contains(c)));
        }
        fs::write(f.dir.join("cgroup.freeze"), "1")?;
        wait_for(&f.dir.join("cgroup.events"), "frozen 1")?;
        Ok(f)
    }

    /// Kills the frozen tasks (a fatal signal ends a frozen task too).
    pub fn kill(&self) -> io::Result<()> {
        fs::write(self.dir.join("cgroup.kill"), "1")
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        let _ = fs::write(self.dir.join("cgroup.freeze"), "0");
        for p in &self.pids {
            let _ = fs::write(self.origin.join("cgroup.procs"), p.to_string());
        }
        for _ in 0..200 {
            if fs::remove_dir(&self.dir).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}
