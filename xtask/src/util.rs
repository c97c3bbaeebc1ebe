// SPDX-License-Identifier: GPL-2.0

//! Paths, process helpers and progress output.

use std::fs;
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::Instant;

pub type Result<T = ()> = std::result::Result<T, String>;

/// Where everything lives.
#[derive(Clone)]
pub struct Paths {
    /// The repository (the kernel overlay).
    pub repo: PathBuf,
    /// Cache root: kernel tree, build tree and run files, outside the clone.
    pub cache: PathBuf,
    /// Build the debug kernel (`kernel/configs/checkpoint-debug.config` on
    /// top of the test config: KASAN, lockdep, UBSAN), in a build tree of
    /// its own.
    pub debug: bool,
}

impl Paths {
    pub fn new() -> Self {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("xtask lives in the repository")
            .to_path_buf();
        let cache = match std::env::var_os("CKPT_CACHE") {
            Some(c) => PathBuf::from(c),
            None => {
                let base = std::env::var_os("XDG_CACHE_HOME")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| home().join(".cache"));
                base.join("linux-cr-rs")
            }
        };
        Self {
            repo,
            cache,
            debug: false,
        }
    }

    /// The patched kernel source tree (a git repository; tag `pristine`).
    pub fn src(&self) -> PathBuf {
        self.cache.join("src")
    }

    /// The kernel build tree (`make O=`).
    pub fn build(&self) -> PathBuf {
        self.cache
            .join(if self.debug { "build-debug" } else { "build" })
    }

    pub fn bzimage(&self) -> PathBuf {
        self.build().join("arch/x86/boot/bzImage")
    }

    /// Built kselftests.
    pub fn selftests(&self) -> PathBuf {
        self.cache.join("selftests")
    }

    /// Files shared with the guest (read-write).
    pub fn run(&self) -> PathBuf {
        self.cache.join("run")
    }

    pub fn logs(&self) -> PathBuf {
        self.cache.join("logs")
    }

    /// Static user tools.
    pub fn tools(&self) -> PathBuf {
        self.repo
            .join("target")
            .join(tools_target())
            .join("release")
    }
}

/// The target triple of the static user tools: this machine's architecture
/// (the guest runs the same one).
pub fn tools_target() -> String {
    format!("{}-unknown-linux-gnu", std::env::consts::ARCH)
}

pub fn home() -> PathBuf {
    std::env::var_os("HOME").map_or_else(|| PathBuf::from("/root"), PathBuf::from)
}

/// `git -C dir` with the identity of the commits the pipeline makes.
pub fn git(dir: &Path) -> Command {
    let mut c = Command::new("git");
    c.arg("-C").arg(dir).args([
        "-c",
        "user.name=Linux checkpoint/restart developers",
        "-c",
        "user.email=dev@linux-cr-rs.invalid",
    ]);
    c
}

/// Prints a step heading.
pub fn step(msg: &str) {
    println!("==> {msg}");
    let _ = io::stdout().flush();
}

/// Prints a detail line.
pub fn info(msg: &str) {
    println!("    {msg}");
    let _ = io::stdout().flush();
}

/// Environment for the kernel build and its tools.
pub fn kernel_env(cmd: &mut Command) -> &mut Command {
    let cargo_bin = home().join(".cargo/bin");
    let path = std::env::var("PATH").unwrap_or_default();
    cmd.env("PATH", format!("{}:{path}", cargo_bin.display()))
        .env("LIBCLANG_PATH", "/usr/lib/llvm-19/lib")
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Runs `cmd`, inheriting stdio; fails on a non-zero status.
pub fn run(cmd: &mut Command) -> Result {
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {}: {e}", describe(cmd)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} failed ({status})", describe(cmd)))
    }
}

/// Runs `cmd` and returns its standard output; fails on a non-zero status.
pub fn output(cmd: &mut Command) -> Result<String> {
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", describe(cmd)))?;
    if !out.status.success() {
        return Err(format!("{} failed ({})", describe(cmd), out.status));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Returns true if `cmd` runs and succeeds, quietly.
pub fn succeeds(cmd: &mut Command) -> bool {
    cmd.stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `cmd` with its output merged into `log`; `each` sees every line.
pub fn run_logged(cmd: &mut Command, log: &Path, mut each: impl FnMut(&str)) -> Result<ExitStatus> {
    if let Some(d) = log.parent() {
        fs::create_dir_all(d).map_err(|e| e.to_string())?;
    }
    let mut file = fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    // Merge stderr into stdout through a shell-free pipe pair.
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", describe(cmd)))?;
    let stderr = child.stderr.take().expect("piped");
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let tx2 = tx.clone();
    let stdout = child.stdout.take().expect("piped");
    let t1 = std::thread::spawn(move || {
        for l in BufReader::new(stdout).lines().map_while(|l| l.ok()) {
            let _ = tx.send(l);
        }
    });
    let t2 = std::thread::spawn(move || {
        for l in BufReader::new(stderr).lines().map_while(|l| l.ok()) {
            let _ = tx2.send(l);
        }
    });
    for line in rx {
        let _ = writeln!(file, "{line}");
        each(&line);
    }
    let _ = t1.join();
    let _ = t2.join();
    child.wait().map_err(|e| e.to_string())
}

/// Writes `data` to `path` only if it differs, so that unchanged files keep
/// their mtime and make does not rebuild what depends on them.
pub fn write_if_changed(path: &Path, data: &[u8]) -> Result<bool> {
    if fs::read(path).is_ok_and(|old| old == data) {
        return Ok(false);
    }
    if let Some(d) = path.parent() {
        fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    fs::write(path, data).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(true)
}

/// A stable 64-bit FNV-1a hash, for stamps.
pub fn fnv(parts: &[&[u8]]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for &b in *p {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    format!("{h:016x}")
}

/// Measures a step.
pub struct Timer(Instant, &'static str);

impl Timer {
    pub fn start(what: &'static str) -> Self {
        Self(Instant::now(), what)
    }

    pub fn done(self) -> f64 {
        let s = self.0.elapsed().as_secs_f64();
        info(&format!("{} took {:.0} s", self.1, s));
        s
    }
}
