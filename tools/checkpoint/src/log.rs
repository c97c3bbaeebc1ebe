// SPDX-License-Identifier: GPL-2.0

//! The kernel's log of one checkpoint or restart: the lines go to the file
//! of `-l`, and on a terminal the tools show progress from the kernel's
//! `progress:` lines (one per 32 MiB of image), so that an image of less
//! than that shows nothing.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Where the kernel writes its log lines during one system call.
pub struct Log {
    /// The file of `-l`, written by the kernel itself when there is no
    /// progress to show.
    file: Option<File>,
    /// On a terminal: the write end of the pipe the kernel writes to, while
    /// a thread reads the other end.
    pipe: Option<OwnedFd>,
    /// Says when that thread has read the last line.
    done: Option<mpsc::Receiver<()>>,
}

impl Log {
    /// Opens the log of `tool` (`checkpoint`, `restart`): `path` if given,
    /// appended to, and progress on standard error if it is a terminal.
    pub fn open(path: Option<&str>, tool: &'static str) -> io::Result<Self> {
        let file = match path {
            Some(p) => Some(File::options().create(true).append(true).open(p)?),
            None => None,
        };
        // SAFETY: isatty(3) takes only a descriptor.
        if unsafe { libc::isatty(2) } != 1 {
            return Ok(Self {
                file,
                pipe: None,
                done: None,
            });
        }
        let mut p = [0; 2];
        // SAFETY: `p` has room for the two descriptors pipe2(2) makes.
        if unsafe { libc::pipe2(p.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: pipe2(2) made both; each is owned once from here on.
        let (r, w) = unsafe { (File::from_raw_fd(p[0]), OwnedFd::from_raw_fd(p[1])) };
        let copy = file.as_ref().map(File::try_clone).transpose()?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            show_progress(r, copy, tool);
            let _ = tx.send(());
        });
        Ok(Self {
            file,
            pipe: Some(w),
            done: Some(rx),
        })
    }

    /// The descriptor to give the system call, or -1.
    pub fn fd(&self) -> RawFd {
        match (&self.pipe, &self.file) {
            (Some(p), _) => p.as_raw_fd(),
            (None, Some(f)) => f.as_raw_fd(),
            (None, None) => -1,
        }
    }

    /// Once the system call returned: lets the progress line end. A
    /// process that still holds the log (a restarted init) does not hold
    /// the tool for more than a second.
    pub fn finish(&mut self) {
        self.pipe = None;
        if let Some(done) = self.done.take() {
            let _ = done.recv_timeout(Duration::from_secs(1));
        }
    }
}

/// Reads log lines from `r`, copies them to `file`, and shows the progress
/// lines of `tool` on standard error, ending with a newline if it showed
/// any.
fn show_progress(r: File, mut file: Option<File>, tool: &str) {
    let start = Instant::now();
    let mut shown = false;
    let mut err = io::stderr();
    for line in BufReader::new(r).split(b'\n') {
        let Ok(line) = line else { break };
        if let Some(f) = &mut file {
            let _ = f.write_all(&line).and_then(|()| f.write_all(b"\n"));
        }
        let Some((bytes, pages)) = parse_progress(&line, tool) else {
            continue;
        };
        let mib = bytes as f64 / f64::from(1 << 20);
        let rate = mib / start.elapsed().as_secs_f64().max(1e-3);
        let _ = write!(
            err,
            "\r{tool}: {mib:.0} MiB, {pages} pages, {rate:.0} MiB/s\x1b[K"
        );
        shown = true;
    }
    if shown {
        let _ = writeln!(err);
    }
}

/// The bytes and pages of a line `TOOL: progress: N bytes, M pages`.
pub fn parse_progress(line: &[u8], tool: &str) -> Option<(u64, u64)> {
    let line = std::str::from_utf8(line).ok()?;
    let rest = line.strip_prefix(tool)?.strip_prefix(": progress: ")?;
    let (bytes, pages) = rest.split_once(", ")?;
    Some((
        bytes.strip_suffix(" bytes")?.parse().ok()?,
        pages.strip_suffix(" pages")?.parse().ok()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::parse_progress;

    #[test]
    fn progress_lines() {
        let p = |l: &str| parse_progress(l.as_bytes(), "restart");
        assert_eq!(
            p("restart: progress: 33554432 bytes, 8190 pages"),
            Some((33554432, 8190))
        );
        assert_eq!(p("checkpoint: progress: 1 bytes, 1 pages"), None);
        assert_eq!(p("restart: a tree of 3 tasks"), None);
        assert_eq!(p("restart: progress: x bytes, 1 pages"), None);
        assert_eq!(p("restart: progress: 1 bytes"), None);
    }
}
