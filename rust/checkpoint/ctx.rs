// SPDX-License-Identifier: GPL-2.0

//! The checkpoint/restart context: the image stream, the log, the object hash
//! and the deferqueue of one `checkpoint(2)` or `restart(2)` call.

use crate::{
    deferqueue::DeferQueue,
    objhash::{self, DefineError, ObjHash, MAX_OBJECTS},
    sys::{
        cred::Cred,
        errno,
        file::{Access, File},
        mm::{read_pages_from, write_pages_to, UserPage, GUP_BATCH},
        signal::current,
        task::PidNs,
        uts,
    },
};
use ckpt_format::{
    check_padding, stream::StreamCheck, ErrorRecord, FormatError, PagesRecord, Record,
    RecordHeader, RecordKind, RecordType, Tail, MAX_SMALL_RECORD, RECORD_HEADER_LEN,
};
use core::fmt::{self, Write};
use kernel::{bindings, prelude::*, types::ARef};

/// Bytes of image between two progress lines of the log.
const PROGRESS_STEP: u64 = 32 << 20;

/// Which system call a context serves.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// `checkpoint(2)`: the image is written.
    Checkpoint,
    /// `restart(2)`: the image is read.
    Restart,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Checkpoint => "checkpoint",
            Mode::Restart => "restart",
        }
    }
}

/// State of one checkpoint or restart.
pub(crate) struct Ctx {
    mode: Mode,
    image: ARef<File>,
    log: Option<ARef<File>>,
    /// Shared objects seen so far, by address (checkpoint) and objref.
    pub(crate) objhash: ObjHash,
    /// Work to run once every record is processed.
    pub(crate) deferq: DeferQueue<Ctx>,
    /// Bytes of image written or read so far.
    offset: u64,
    /// An error record was written (checkpoint), or the failure was logged.
    failed: bool,
    /// Restart: bytes of page contents of the last pages record not read yet.
    pages_due: usize,
    /// Pages of memory written or read so far.
    pages: u64,
    /// The offset at which the next progress line is due.
    progress_at: u64,
    /// Restart: past the point of no return, only a fatal signal may
    /// interrupt a read of the image.
    hold_signals: bool,
    /// Restart: files opened for the image so far.
    pub(crate) files_open: u64,
    /// Restart: the tasks of the image, each of which may hold as many
    /// files as the caller may.
    pub(crate) tasks: u64,
    /// Restart: the order and objrefs of the records read so far.
    check: StreamCheck,
    /// Restart: the header of the next record, read ahead by
    /// [`Ctx::peek_type`], and its offset.
    peeked: Option<(RecordHeader, u64)>,
    /// Restart: the credentials of the task being restored, with which its
    /// files are reopened.
    pub(crate) task_cred: Option<ARef<Cred>>,
    /// Checkpoint: the pid namespace in which the image names its tasks:
    /// the caller's for a subtree, the root's for a container.
    pub(crate) pidns: PidNs,
    /// Checkpoint: the pid of the task being saved, the first user of the
    /// objects it meets first.
    pub(crate) task_pid: i32,
    /// Checkpoint: `CHECKPOINT_BIG_FILES`, unlinked files and shared memory
    /// of any size.
    pub(crate) big_files: bool,
    /// Restart: the image can be read at any offset, so that page contents
    /// are skipped in turn and read later ([`Ctx::skip_pages`]), by each
    /// task at once.
    pub(crate) defer_pages: bool,
    /// Restart with [`Ctx::defer_pages`]: the image read ahead.
    ahead: Option<ReadAhead>,
}

impl Ctx {
    /// Opens a context on the caller's descriptors `fd` (the image) and `logfd`
    /// (`-1` for no log).
    pub(crate) fn new(mode: Mode, fd: i32, logfd: i32) -> Result<Self> {
        let access = match mode {
            Mode::Checkpoint => Access::Write,
            Mode::Restart => Access::Read,
        };
        let image = File::from_fd(fd, access)?;
        let defer_pages = mode == Mode::Restart && image.preadable();
        let ahead = match defer_pages {
            true => Some(ReadAhead::new(&image)?),
            false => None,
        };
        let log = match logfd {
            -1 => None,
            fd => Some(File::from_fd(fd, Access::Write)?),
        };
        // Log lines would land in the middle of the image.
        if log.as_ref().is_some_and(|l| l.addr() == image.addr()) {
            return Err(EINVAL);
        }
        Ok(Self {
            mode,
            image,
            log,
            objhash: ObjHash::new(),
            deferq: DeferQueue::new(),
            offset: 0,
            failed: false,
            pages_due: 0,
            pages: 0,
            progress_at: PROGRESS_STEP,
            hold_signals: false,
            files_open: 0,
            tasks: 1,
            check: StreamCheck::new(),
            peeked: None,
            task_cred: None,
            pidns: PidNs::caller(),
            task_pid: 0,
            big_files: false,
            defer_pages,
            ahead,
        })
    }

    /// Restart: from now on, failure cannot return to the caller's program.
    /// Only a fatal signal may end the restart; other signals, stops and
    /// freezes wait until the restored task runs.
    pub(crate) fn hold_signals(&mut self) {
        current::hold_signals();
        self.hold_signals = true;
    }

    /// Restart: whether [`Ctx::hold_signals`] was called.
    pub(crate) fn holds_signals(&self) -> bool {
        self.hold_signals
    }

    /// Runs the deferqueue.
    pub(crate) fn run_deferred(&mut self) -> Result<usize> {
        DeferQueue::run(self, |ctx| &mut ctx.deferq)
    }

    /// Writes one line to the log descriptor, if there is one.
    ///
    /// Lines longer than the line buffer are cut; logging never fails the
    /// operation.
    pub(crate) fn log(&self, args: fmt::Arguments<'_>) {
        if let Some(log) = &self.log {
            let mut line = LineBuf::new();
            let _ = write!(line, "{}: {}", self.mode.name(), args);
            let _ = log.write_all(line.finish_line());
        }
    }

    /// Counts `len` more bytes of image, `pages` pages of memory among
    /// them, and logs a progress line each [`PROGRESS_STEP`] bytes, which
    /// the tools show.
    fn advance(&mut self, len: usize, pages: usize) {
        self.offset += len as u64;
        self.pages += pages as u64;
        if self.offset >= self.progress_at && self.log.is_some() {
            self.log(format_args!(
                "progress: {} bytes, {} pages",
                self.offset, self.pages
            ));
            self.progress_at = self.offset + PROGRESS_STEP;
        }
    }

    /// Records a checkpoint failure and returns `err`.
    ///
    /// The first failure of a checkpoint is written into the image as an error
    /// record, so that whoever reads the image knows why it is incomplete, and
    /// logged; later ones are only returned.
    pub(crate) fn fail(&mut self, err: Error, objref: i32, args: fmt::Arguments<'_>) -> Error {
        if self.failed {
            return err;
        }
        self.failed = true;
        let mut msg = LineBuf::new();
        let _ = msg.write_fmt(args);
        self.log(format_args!(
            "error {}: {}",
            -err.to_errno(),
            msg.as_bytes_str()
        ));
        if self.mode == Mode::Checkpoint {
            let rec = Record::Error(ErrorRecord {
                errno: -err.to_errno(),
                objref,
                msg: msg.as_bytes(),
            });
            // The stream itself may be what failed: nothing more to do then.
            let _ = self.write_record(&rec);
        }
        err
    }

    /// Returns `err` after logging where the image is invalid.
    pub(crate) fn bad_image(&mut self, offset: u64, err: FormatError) -> Error {
        self.failed = true;
        self.log(format_args!("invalid image at offset {offset}: {err}"));
        errno(err.errno() as u32)
    }

    /// Returns the offset of the next record.
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    /// Encodes and writes one record.
    pub(crate) fn write_record(&mut self, rec: &Record<'_>) -> Result {
        let hdr = RecordHeader::new(rec.ty(), rec.payload_len()).map_err(|_| EINVAL)?;
        let total = hdr.len as usize + hdr.padding();
        let mut small = [0u8; MAX_SMALL_RECORD];
        let mut big;
        let buf: &mut [u8] = if total <= MAX_SMALL_RECORD {
            &mut small
        } else {
            big = KVVec::from_elem(0u8, total, GFP_KERNEL_ACCOUNT)?;
            &mut big
        };
        let len = rec.encode(buf).map_err(|_| EINVAL)?;
        self.write(&buf[..len])
    }

    /// Writes a pages record: the pages at `addrs`, whose contents are
    /// `pages`, are copied straight from the pages to the image.
    pub(crate) fn write_pages(&mut self, addrs: &[u64], pages: &[&UserPage]) -> Result {
        let (hdr, prefix) = PagesRecord::head(addrs.len(), uts::page_size()).map_err(|_| EINVAL)?;
        let mut head = [0u8; RECORD_HEADER_LEN + 8 + 8 * GUP_BATCH];
        let mut n = 0;
        for chunk in [&hdr.encode()[..], &prefix[..]] {
            head[n..n + chunk.len()].copy_from_slice(chunk);
            n += chunk.len();
        }
        for a in addrs {
            head.get_mut(n..n + 8)
                .ok_or(EINVAL)?
                .copy_from_slice(&a.to_le_bytes());
            n += 8;
        }
        // One write: a reader of a pipe is woken once for the record.
        write_pages_to(&self.image, &head[..n], pages)?;
        self.advance(n + pages.len() * bindings::PAGE_SIZE, pages.len());
        // Whole pages and 8-byte words: the record needs no padding.
        self.write(&[0u8; 8][..hdr.padding()])
    }

    fn write(&mut self, buf: &[u8]) -> Result {
        self.image.write_all(buf)?;
        self.advance(buf.len(), 0);
        Ok(())
    }

    /// Restart: reads the next record, which must be a `T`, into `buf`.
    /// The records of shared objects that come before it are restored on
    /// the way (see [`objhash::Object`]).
    ///
    /// An image that breaks the rules of the stream, or has another record
    /// here, fails with `EINVAL` after a log line.
    pub(crate) fn read<'b, T: RecordKind<'b>>(&mut self, buf: &'b mut RecordBuf) -> Result<T> {
        if let Some(rec) = self.read_if(buf)? {
            return Ok(rec);
        }
        // Left unread: its header is the one read ahead.
        let (ty, offset) = self.peek_type()?;
        self.log(format_args!(
            "a {} record where a {} record belongs",
            ty.name(),
            T::TYPE.name()
        ));
        Err(self.bad_image(offset, FormatError::Order("record out of place")))
    }

    /// Restart: reads the next record if it is a `T` (after the shared
    /// objects before it); leaves it unread otherwise.
    pub(crate) fn read_if<'b, T: RecordKind<'b>>(
        &mut self,
        buf: &'b mut RecordBuf,
    ) -> Result<Option<T>> {
        if self.skip_objects(buf)?.0 != T::TYPE {
            return Ok(None);
        }
        let rec = self.next_record(buf)?;
        T::from_record(rec).map(Some).ok_or(EINVAL)
    }

    /// Restores the shared objects whose records come next; returns the
    /// type and offset of the record after them.
    fn skip_objects(&mut self, buf: &mut RecordBuf) -> Result<(RecordType, u64)> {
        loop {
            let (ty, offset) = self.peek_type()?;
            if ty == RecordType::Contents {
                let rec = self.next_record(buf)?;
                objhash::restore_contents(self, rec)?;
                continue;
            }
            let Some(class) = objhash::class_of(ty) else {
                return Ok((ty, offset));
            };
            let rec = self.next_record(buf)?;
            class.restore(self, rec)?;
        }
    }

    /// Restart: returns the type of the next record (and its offset),
    /// without reading past its header.
    pub(crate) fn peek_type(&mut self) -> Result<(RecordType, u64)> {
        if let Some((hdr, offset)) = self.peeked {
            return Ok((hdr.ty, offset));
        }
        // Each record is a step of the restart: a fatal signal ends it.
        if current::fatal_signal_pending() {
            return Err(EINTR);
        }
        if self.pages_due != 0 {
            return Err(EINVAL);
        }
        let offset = self.offset;
        let mut hdr_bytes = [0u8; RECORD_HEADER_LEN];
        self.read_bytes(&mut hdr_bytes, offset)?;
        let hdr = RecordHeader::decode(&hdr_bytes).map_err(|e| self.bad_image(offset, e))?;
        self.peeked = Some((hdr, offset));
        Ok((hdr.ty, offset))
    }

    /// Reads and decodes the next record into `buf`, and checks it against
    /// the rules of the stream.
    ///
    /// Any malformed record fails with `EINVAL` after a log line, and so does an
    /// image that ends in the middle of a record. The length of a record was
    /// checked against the bounds of its type before anything is allocated.
    ///
    /// A pages record is returned without its contents, which the caller
    /// must then read into the pages with [`Ctx::read_pages`].
    fn next_record<'b>(&mut self, buf: &'b mut RecordBuf) -> Result<Record<'b>> {
        self.peek_type()?;
        let (hdr, offset) = self.peeked.take().ok_or(EINVAL)?;
        let rec = if hdr.ty == RecordType::Pages {
            self.read_pages_head(&hdr, buf, offset)?
        } else {
            let payload = hdr.payload_len();
            let total = payload + hdr.padding();
            let slot: &'b mut [u8] = if total <= MAX_SMALL_RECORD {
                &mut buf.small[..total]
            } else {
                // Reused across records: pages records are all about the size.
                if buf.big.len() < total {
                    buf.big = KVVec::from_elem(0u8, total, GFP_KERNEL_ACCOUNT)?;
                }
                &mut buf.big[..total]
            };
            self.read_bytes(slot, offset)?;
            let slot: &'b [u8] = slot;
            check_padding(&slot[payload..]).map_err(|e| self.bad_image(offset, e))?;
            Record::decode(&hdr, &slot[..payload]).map_err(|e| self.bad_image(offset, e))?
        };
        if let Err(e) = self.check.next(&rec, &mut self.objhash) {
            return Err(match e {
                DefineError::Format(e) => self.bad_image(offset, e),
                DefineError::Kernel(e) => {
                    if e.to_errno() == E2BIG.to_errno() {
                        self.log(format_args!(
                            "more than {MAX_OBJECTS} shared objects at offset {offset}"
                        ));
                    }
                    e
                }
            });
        }
        Ok(rec)
    }

    fn read_pages_head<'b>(
        &mut self,
        hdr: &RecordHeader,
        buf: &'b mut RecordBuf,
        offset: u64,
    ) -> Result<Record<'b>> {
        let mut prefix = [0u8; PagesRecord::PREFIX];
        self.read_bytes(&mut prefix, offset)?;
        let n = PagesRecord::addrs_len(&prefix).map_err(|e| self.bad_image(offset, e))?;
        let len = prefix.len() + n;
        if buf.big.len() < len {
            buf.big = KVVec::from_elem(0u8, len, GFP_KERNEL_ACCOUNT)?;
        }
        buf.big[..prefix.len()].copy_from_slice(&prefix);
        self.read_bytes(&mut buf.big[prefix.len()..len], offset)?;
        let head: &'b [u8] = &buf.big[..len];
        let rec = PagesRecord::decode_head(hdr, head).map_err(|e| self.bad_image(offset, e))?;
        // Whole pages and 8-byte words: the record has no padding.
        self.pages_due = rec.data_len();
        Ok(rec.into_record())
    }

    /// Restart: the image, for reads at an offset ([`Ctx::skip_pages`]).
    pub(crate) fn image(&self) -> ARef<File> {
        self.image.clone()
    }

    /// Restart: skips the next `n` page contents of the last pages record,
    /// to be read later at the offset this returns.
    pub(crate) fn skip_pages(&mut self, n: usize) -> Result<i64> {
        let len = n * bindings::PAGE_SIZE;
        if len > self.pages_due {
            return Err(EINVAL);
        }
        let pos = match &mut self.ahead {
            Some(a) => a.skip(&self.image, len)?,
            // CAST: at most a pages record's contents, far below `i64::MAX`.
            None => self.image.skip(len as i64)?,
        };
        self.pages_due -= len;
        self.advance(len, n);
        Ok(pos)
    }

    /// Reads the next page contents of the last pages record into `pages`.
    pub(crate) fn read_pages(&mut self, pages: &[UserPage]) -> Result {
        let len = pages.len() * bindings::PAGE_SIZE;
        if len > self.pages_due {
            return Err(EINVAL);
        }
        let offset = self.offset;
        match read_pages_from(&self.image, pages, self.hold_signals) {
            Ok(()) => {
                self.pages_due -= len;
                self.advance(len, pages.len());
                Ok(())
            }
            Err(e) if e.to_errno() == -(bindings::ENODATA as i32) => {
                Err(self.bad_image(offset, FormatError::Truncated))
            }
            Err(e) => Err(e),
        }
    }

    /// Restart: reads the tail record, which ends the image, and leaves
    /// the image's position right after it.
    pub(crate) fn read_tail(&mut self, buf: &mut RecordBuf) -> Result {
        self.read::<Tail>(buf)?;
        match self.ahead.take() {
            Some(a) => a.give_back(&self.image),
            None => Ok(()),
        }
    }

    fn read_bytes(&mut self, buf: &mut [u8], record: u64) -> Result {
        let r = match &mut self.ahead {
            Some(a) => a.read_exact(&self.image, buf, self.hold_signals),
            None => self.image.read_exact(buf, self.hold_signals),
        };
        match r {
            Ok(()) => {
                self.advance(buf.len(), 0);
                Ok(())
            }
            Err(e) if e.to_errno() == -(bindings::ENODATA as i32) => {
                Err(self.bad_image(record, FormatError::Truncated))
            }
            Err(e) => Err(e),
        }
    }
}

/// Bytes of image read at once by [`ReadAhead`]: the records of a task
/// between two runs of pages it skips.
const READ_AHEAD: usize = 16 << 10;

/// The image read ahead, so that the header and payload of each record do
/// not take a `read()` each, and pages skipped within it take none.
///
/// # Invariants
///
/// `start <= end <= buf.len()`; `buf[start..end]` is the image from where
/// the context is, and `pos` the position of the file, just after it.
struct ReadAhead {
    buf: KVVec<u8>,
    start: usize,
    end: usize,
    pos: i64,
}

impl ReadAhead {
    fn new(file: &File) -> Result<Self> {
        Ok(Self {
            buf: KVVec::from_elem(0u8, READ_AHEAD, GFP_KERNEL_ACCOUNT)?,
            start: 0,
            end: 0,
            pos: file.skip(0)?,
        })
    }

    fn avail(&self) -> usize {
        self.end - self.start
    }

    /// Fills `out` from what was read ahead, then from `file`; a read as
    /// large as the buffer bypasses it.
    fn read_exact(&mut self, file: &File, mut out: &mut [u8], hold: bool) -> Result {
        loop {
            let n = out.len().min(self.avail());
            out[..n].copy_from_slice(&self.buf[self.start..self.start + n]);
            self.start += n;
            out = &mut core::mem::take(&mut out)[n..];
            if out.is_empty() {
                return Ok(());
            }
            if out.len() >= self.buf.len() {
                file.read_exact(out, hold)?;
                // CAST: a record's length, far below `i64::MAX`.
                self.pos += out.len() as i64;
                return Ok(());
            }
            let got = file.read(&mut self.buf, hold)?;
            if got == 0 {
                return Err(errno(bindings::ENODATA));
            }
            (self.start, self.end) = (0, got);
            // CAST: at most `READ_AHEAD`.
            self.pos += got as i64;
        }
    }

    /// Skips `len` bytes of `file`, from those read ahead first; returns
    /// the file position where they start.
    fn skip(&mut self, file: &File, len: usize) -> Result<i64> {
        // CAST: at most `READ_AHEAD`.
        let at = self.pos - self.avail() as i64;
        if len <= self.avail() {
            self.start += len;
            return Ok(at);
        }
        // CAST: at most a pages record's contents, far below `i64::MAX`.
        file.skip((len - self.avail()) as i64)?;
        (self.start, self.end) = (0, 0);
        // CAST: as above.
        self.pos = at + len as i64;
        Ok(at)
    }

    /// Moves the position of `file` back over what was read ahead and not
    /// used, so that it ends where the context stopped reading.
    fn give_back(self, file: &File) -> Result {
        match self.avail() {
            0 => Ok(()),
            // CAST: at most `READ_AHEAD`.
            n => file.skip(-(n as i64)).map(|_| ()),
        }
    }
}

/// Space for one record read from the image: small records on the stack, large
/// ones (memory areas with long paths, pages) in a buffer allocated per record.
pub(crate) struct RecordBuf {
    small: [u8; MAX_SMALL_RECORD],
    big: KVVec<u8>,
}

impl RecordBuf {
    pub(crate) fn new() -> Self {
        Self {
            small: [0; MAX_SMALL_RECORD],
            big: KVVec::new(),
        }
    }
}

/// A line of log or error-record text, cut at its capacity.
struct LineBuf {
    buf: [u8; Self::CAP],
    len: usize,
}

impl LineBuf {
    const CAP: usize = 256;

    fn new() -> Self {
        Self {
            buf: [0; Self::CAP],
            len: 0,
        }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    fn as_bytes_str(&self) -> &str {
        // Only `write_str` fills the buffer, and it cuts on a char boundary.
        core::str::from_utf8(self.as_bytes()).unwrap_or("")
    }

    /// Ends the line with a newline (replacing the last byte if full).
    fn finish_line(&mut self) -> &[u8] {
        if self.len == Self::CAP {
            self.len -= 1;
        }
        self.buf[self.len] = b'\n';
        self.len += 1;
        self.as_bytes()
    }
}

impl Write for LineBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = Self::CAP - self.len;
        let mut n = s.len().min(room);
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}
