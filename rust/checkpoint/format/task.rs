// SPDX-License-Identifier: GPL-2.0

//! The records of a task: the task itself, its signals and other settings,
//! its root and working directories, and the restart block of an
//! interrupted system call.

use crate::codec::{Decoder, Encoder, LeArray, LeValue};
use crate::visit::{Field, Value, Visitor};
use crate::{FormatError, Payload, COMM_LEN, MAX_PATH};

/// A task.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TaskRecord<'a> {
    /// Pid, in the pid namespace of the checkpointer.
    pub pid: i32,
    /// Thread-group id.
    pub tgid: i32,
    /// Pid of the parent (0 if it is outside the checkpointer's namespace).
    pub ppid: i32,
    /// Objref of the task's credentials ([`CredRecord`](crate::CredRecord)).
    pub cred_ref: i32,
    /// Command name.
    pub comm: &'a [u8],
    /// `/proc/PID/oom_score_adj`, -1000 to 1000.
    pub oom_score_adj: i32,
    /// [`TaskRecord::NO_NEW_PRIVS`] and other flags.
    pub flags: u32,
    /// Head of the robust futex list (`set_robust_list()`), or 0.
    pub robust_list: u64,
    /// Length given with the robust list head.
    pub robust_list_len: u64,
    /// Address cleared and woken at exit (`set_tid_address()`), or 0:
    /// what `pthread_join()` waits on.
    pub clear_child_tid: u64,
    /// Of a zombie ([`TaskRecord::ZOMBIE`]): the status its parent's
    /// `wait()` gets; else 0.
    pub exit_status: u32,
}

impl TaskRecord<'_> {
    /// Payload length.
    pub const LEN: usize = 4 * 4 + COMM_LEN + 4 + 4 + 8 + 8 + 8 + 4 + 4;

    /// Flag: `PR_SET_NO_NEW_PRIVS` was set.
    pub const NO_NEW_PRIVS: u32 = 1;

    /// Flag: the task has exited and waits for its parent to reap it. No
    /// other record of it follows.
    pub const ZOMBIE: u32 = 2;

    /// Whether it is a zombie.
    pub fn is_zombie(&self) -> bool {
        self.flags & Self::ZOMBIE != 0
    }
}

/// Whether `status` is one that `wait()` reports for an exit: an exit code
/// (`status >> 8`), or the signal that killed the task (1 to 64, with the
/// core dump bit `0x80`).
fn exit_status_valid(status: u32) -> bool {
    match status & 0x7f {
        0 => status & !0xff00 == 0,
        sig => sig <= 64 && status & !0xff == 0,
    }
}

impl<'a> Payload<'a> for TaskRecord<'a> {
    const BOUNDS: (usize, usize) = (Self::LEN, Self::LEN);

    fn encode(&self, e: &mut Encoder<'_>) -> Result<(), FormatError> {
        e.i32(self.pid)?;
        e.i32(self.tgid)?;
        e.i32(self.ppid)?;
        e.i32(self.cred_ref)?;
        e.fixed_str::<COMM_LEN>(self.comm)?;
        e.i32(self.oom_score_adj)?;
        e.u32(self.flags)?;
        e.u64(self.robust_list)?;
        e.u64(self.robust_list_len)?;
        e.u64(self.clear_child_tid)?;
        e.u32(self.exit_status)?;
        e.u32(0)
    }

    fn decode(d: &mut Decoder<'a>) -> Result<Self, FormatError> {
        let r = Self {
            pid: d.i32()?,
            tgid: d.i32()?,
            ppid: d.i32()?,
            cred_ref: d.i32()?,
            comm: d.fixed_str::<COMM_LEN>()?,
            oom_score_adj: d.i32()?,
            flags: d.u32()?,
            robust_list: d.u64()?,
            robust_list_len: d.u64()?,
            clear_child_tid: d.u64()?,
            exit_status: d.u32()?,
        };
        if d.u32()? != 0 {
            return Err(FormatError::BadValue("task reserved field"));
        }
        if r.pid <= 0 || r.tgid <= 0 || r.ppid < 0 {
            return Err(FormatError::BadValue("task pid"));
        }
        if !(-1000..=1000).contains(&r.oom_score_adj) {
            return Err(FormatError::BadValue("task oom_score_adj"));
        }
        if r.flags & !(Self::NO_NEW_PRIVS | Self::ZOMBIE) != 0 {
            return Err(FormatError::BadValue("task flags"));
        }
        // A zombie is a process, with a status; a live task has none.
        let zombie = r.is_zombie();
        if (zombie && (r.tgid != r.pid || !exit_status_valid(r.exit_status)))
            || (!zombie && r.exit_status != 0)
        {
            return Err(FormatError::BadValue("task exit status"));
        }
        Ok(r)
    }

    fn visit(&self, v: &mut dyn Visitor) {
        v.int("pid", self.pid);
        v.int("tgid", self.tgid);
        v.int("ppid", self.ppid);
        v.int(Field::new("cred_ref").label("cred"), self.cred_ref);
        v.str(Field::new("comm").quoted(), self.comm);
        v.int("oom_score_adj", self.oom_score_adj);
        v.flag("no_new_privs", self.flags & Self::NO_NEW_PRIVS != 0);
        v.hex("robust_list", self.robust_list);
        v.uint(Field::new("robust_list_len").detail(), self.robust_list_len);
        v.hex(Field::new("clear_child_tid").detail(), self.clear_child_tid);
        v.flag("zombie", self.is_zombie());
        if self.is_zombie() {
            v.hex("exit_status", u64::from(self.exit_status));
        }
    }
}

/// Number of signals (`_NSIG`).
pub const NSIG: usize = 64;

/// Number of resource limits (`RLIM_NLIMITS`).
pub const RLIM_NLIMITS: usize = 16;

/// Index of `RLIMIT_NOFILE` in [`SignalsRecord::rlimits`].
const RLIMIT_NOFILE: usize = 7;

/// `SS_DISABLE` and `SS_AUTODISARM`, the flags an alternate stack may have.
pub const SS_DISABLE: u32 = 2;
/// See [`SS_DISABLE`].
pub const SS_AUTODISARM: u32 = 1 << 31;

/// Signal state and per-task settings: actions, blocked mask, alternate
/// stack, resource limits, umask, the registered rseq area, the
/// `ITIMER_REAL` timer, and pending signals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignalsRecord<'a> {
    /// Blocked signals (bit `n - 1` for signal `n`).
    pub blocked: u64,
    /// Alternate signal stack: address, size.
    pub altstack: [u64; 2],
    /// Its flags (`SS_DISABLE`, `SS_AUTODISARM`).
    pub altstack_flags: u32,
    /// File mode creation mask.
    pub umask: u32,
    /// Registered rseq area: address (0 for none), length and signature.
    pub rseq: u64,
    /// See [`SignalsRecord::rseq`].
    pub rseq_len: u32,
    /// See [`SignalsRecord::rseq`].
    pub rseq_sig: u32,
    /// Resource limits: [`RLIM_NLIMITS`] pairs (soft, hard).
    pub rlimits: LeArray<'a, [u64; 2]>,
    /// Signal actions: [`NSIG`] of them (signal `n` at index `n - 1`), each
    /// handler, flags, restorer, mask.
    pub actions: LeArray<'a, [u64; 4]>,
    /// `ITIMER_REAL`: nanoseconds left (0: disarmed) and interval.
    pub itimer_real: [u64; 2],
    /// Pending signals, [`SignalsRecord::PENDING_LEN`] bytes each: signal
    /// number and flags ([`SignalsRecord::PENDING_SHARED`]) as `u32`, then
    /// the first 48 bytes of its `siginfo_t`.
    pub pending: &'a [u8],
}

/// What a [`TimerRecord`] holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum TimerKind {
    /// `ITIMER_VIRTUAL`: the user CPU time of the process.
    Virtual = 1,
    /// `ITIMER_PROF`: the user and system CPU time of the process.
    Prof = 2,
    /// A POSIX timer (`timer_create()`).
    Posix = 3,
}

/// An interval timer of a thread group, after its leader's signals record
/// (whose [`SignalsRecord::itimer_real`] holds `ITIMER_REAL`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimerRecord {
    /// Its kind ([`TimerKind`]); `None` only in a record being built.
    pub kind: Option<TimerKind>,
    /// A POSIX timer's id.
    pub id: i32,
    /// A POSIX timer's clock: one of [`TimerRecord::CLOCKS`].
    pub clock: i32,
    /// How a POSIX timer notifies: `SIGEV_SIGNAL`, `SIGEV_NONE`,
    /// `SIGEV_THREAD`, or `SIGEV_SIGNAL | SIGEV_THREAD_ID`.
    pub notify: u32,
    /// The signal it sends.
    pub signo: u32,
    /// With `SIGEV_THREAD_ID`, the thread it signals.
    pub tid: i32,
    /// [`TimerRecord::ABSTIME`], [`TimerRecord::PENDING`].
    pub flags: u32,
    /// What `timer_getoverrun()` returns.
    pub overrun: i32,
    /// The overrun count of its queued signal ([`TimerRecord::PENDING`]).
    pub pending_overrun: i32,
    /// The value of its signal (`sigev_value`).
    pub value: u64,
    /// Nanoseconds to its next expiry (0: disarmed), or with
    /// [`TimerRecord::ABSTIME`] the time of that expiry.
    pub expiry: u64,
    /// Its period in nanoseconds (0: one-shot).
    pub interval: u64,
}

impl TimerRecord {
    /// Payload length.
    pub const LEN: usize = 4 * 10 + 8 * 3;

    /// Flag: an absolute `CLOCK_REALTIME` timer, whose expiry is a time of
    /// that clock.
    pub const ABSTIME: u32 = 1;

    /// Flag: the timer's signal is queued, not yet delivered.
    pub const PENDING: u32 = 2;

    /// `SIGEV_SIGNAL`, `SIGEV_NONE`, `SIGEV_THREAD`, `SIGEV_THREAD_ID`.
    pub const SIGEV_SIGNAL: u32 = 0;
    /// See [`TimerRecord::SIGEV_SIGNAL`].
    pub const SIGEV_NONE: u32 = 1;
    /// See [`TimerRecord::SIGEV_SIGNAL`].
    pub const SIGEV_THREAD: u32 = 2;
    /// See [`TimerRecord::SIGEV_SIGNAL`].
    pub const SIGEV_THREAD_ID: u32 = 4;

    /// The clocks of a POSIX timer: `CLOCK_REALTIME`, `CLOCK_MONOTONIC`,
    /// `CLOCK_PROCESS_CPUTIME_ID`, `CLOCK_BOOTTIME`, the two alarm clocks,
    /// and `CLOCK_TAI`.
    pub const CLOCKS: [i32; 7] = [0, 1, 2, 7, 8, 9, 11];

    /// The largest time it holds: `KTIME_MAX`.
    pub const MAX_TIME: u64 = i64::MAX as u64;
}

impl<'a> Payload<'a> for TimerRecord {
    const BOUNDS: (usize, usize) = (Self::LEN, Self::LEN);

    fn encode(&self, e: &mut Encoder<'_>) -> Result<(), FormatError> {
        let kind = self.kind.ok_or(FormatError::BadValue("timer kind"))?;
        e.u32(kind as u32)?;
        e.i32(self.id)?;
        e.i32(self.clock)?;
        e.u32(self.notify)?;
        e.u32(self.signo)?;
        e.i32(self.tid)?;
        e.u32(self.flags)?;
        e.i32(self.overrun)?;
        e.i32(self.pending_overrun)?;
        e.u32(0)?;
        e.u64(self.value)?;
        e.u64(self.expiry)?;
        e.u64(self.interval)
    }

    fn decode(d: &mut Decoder<'a>) -> Result<Self, FormatError> {
        let kind = match d.u32()? {
            1 => TimerKind::Virtual,
            2 => TimerKind::Prof,
            3 => TimerKind::Posix,
            _ => return Err(FormatError::BadValue("timer kind")),
        };
        let r = Self {
            kind: Some(kind),
            id: d.i32()?,
            clock: d.i32()?,
            notify: d.u32()?,
            signo: d.u32()?,
            tid: d.i32()?,
            flags: d.u32()?,
            overrun: d.i32()?,
            pending_overrun: d.i32()?,
            value: {
                if d.u32()? != 0 {
                    return Err(FormatError::BadValue("timer reserved field"));
                }
                d.u64()?
            },
            expiry: d.u64()?,
            interval: d.u64()?,
        };
        if r.expiry > Self::MAX_TIME || r.interval > Self::MAX_TIME {
            return Err(FormatError::BadValue("timer time"));
        }
        if kind != TimerKind::Posix {
            let posix = (r.id, r.clock, r.tid, r.overrun, r.pending_overrun);
            if posix != (0, 0, 0, 0, 0) || r.notify != 0 || r.signo != 0 || r.flags != 0 {
                return Err(FormatError::BadValue("interval timer"));
            }
            return Ok(r);
        }
        let thread_id = Self::SIGEV_SIGNAL | Self::SIGEV_THREAD_ID;
        let notify = [
            Self::SIGEV_SIGNAL,
            Self::SIGEV_NONE,
            Self::SIGEV_THREAD,
            thread_id,
        ];
        if r.id < 0
            || !Self::CLOCKS.contains(&r.clock)
            || !notify.contains(&r.notify)
            || (r.notify == thread_id) != (r.tid > 0)
            || r.tid < 0
            || r.signo as usize > NSIG
            || (r.notify != Self::SIGEV_NONE && r.signo == 0)
            || r.flags & !(Self::ABSTIME | Self::PENDING) != 0
            || (r.flags & Self::ABSTIME != 0 && r.clock != 0)
            || r.overrun < 0
            || r.pending_overrun < 0
            || (r.flags & Self::PENDING == 0 && r.pending_overrun != 0)
        {
            return Err(FormatError::BadValue("POSIX timer"));
        }
        Ok(r)
    }

    fn visit(&self, v: &mut dyn Visitor) {
        // `posix 3 clock 1 signal 10 value 0x3 every 50000000 ns next
        // 2000000 ns overrun 0 pending`, or `virtual every ... next ...`.
        let kind = match self.kind {
            Some(TimerKind::Virtual) => "virtual",
            Some(TimerKind::Prof) => "prof",
            Some(TimerKind::Posix) | None => "posix",
        };
        v.name(Field::new("kind").bare(), kind);
        if self.kind == Some(TimerKind::Posix) {
            v.int(Field::new("id").bare(), self.id);
            v.int("clock", self.clock);
            v.uint("notify", self.notify);
            v.uint("signal", self.signo);
            if self.tid != 0 {
                v.int("tid", self.tid);
            }
            v.hex("value", self.value);
        }
        v.uint(Field::new("every").suffix(" ns"), self.interval);
        let next = match self.flags & Self::ABSTIME != 0 {
            true => Field::new("at").suffix(" ns (CLOCK_REALTIME)"),
            false => Field::new("next").suffix(" ns"),
        };
        v.uint(next, self.expiry);
        if self.kind == Some(TimerKind::Posix) {
            v.int("overrun", self.overrun);
            if self.flags & Self::PENDING != 0 {
                v.int(
                    Field::new("pending").suffix(" overruns"),
                    self.pending_overrun,
                );
            }
        }
    }
}

/// A pending signal of a [`SignalsRecord`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PendingSignal<'a> {
    /// Signal number.
    pub signo: u32,
    /// Pending for the whole process (`kill()`) rather than the thread.
    pub shared: bool,
    /// The first 48 bytes of its `siginfo_t` (as `struct kernel_siginfo`).
    pub info: &'a [u8],
}

impl<'a> PendingSignal<'a> {
    /// Returns the pending signals in `bytes`, laid out as in
    /// [`SignalsRecord::pending`].
    pub fn iter(bytes: &'a [u8]) -> impl Iterator<Item = PendingSignal<'a>> + 'a {
        bytes
            .chunks_exact(SignalsRecord::PENDING_LEN)
            .map(|c| PendingSignal {
                signo: u32::from_le_bytes([c[0], c[1], c[2], c[3]]),
                shared: c[4] & 1 != 0,
                info: &c[8..],
            })
    }
}

impl<'a> SignalsRecord<'a> {
    /// Payload length without the pending signals.
    pub const MIN_LEN: usize = 8 * 3 + 4 * 2 + 8 + 4 * 2 + 16 * RLIM_NLIMITS + 32 * NSIG + 16 + 8;

    /// Length of one pending signal.
    pub const PENDING_LEN: usize = 8 + 48;

    /// Most pending signals of a record.
    pub const MAX_PENDING: usize = 4096;

    /// Flag of a pending signal: pending for the whole thread group.
    pub const PENDING_SHARED: u32 = 1;

    /// Returns the pending signals.
    pub fn pending_signals(&self) -> impl Iterator<Item = PendingSignal<'a>> + 'a {
        PendingSignal::iter(self.pending)
    }
}

impl<'a> Payload<'a> for SignalsRecord<'a> {
    const BOUNDS: (usize, usize) = (
        Self::MIN_LEN,
        Self::MIN_LEN + Self::PENDING_LEN * Self::MAX_PENDING,
    );

    fn payload_len(&self) -> usize {
        Self::MIN_LEN + self.pending.len()
    }

    fn encode(&self, e: &mut Encoder<'_>) -> Result<(), FormatError> {
        if self.rlimits.len() != RLIM_NLIMITS {
            return Err(FormatError::BadValue("resource limit count"));
        }
        if self.actions.len() != NSIG {
            return Err(FormatError::BadValue("signal action count"));
        }
        e.u64(self.blocked)?;
        e.u64(self.altstack[0])?;
        e.u64(self.altstack[1])?;
        e.u32(self.altstack_flags)?;
        e.u32(self.umask)?;
        e.u64(self.rseq)?;
        e.u32(self.rseq_len)?;
        e.u32(self.rseq_sig)?;
        e.array(&self.rlimits)?;
        e.array(&self.actions)?;
        e.u64(self.itimer_real[0])?;
        e.u64(self.itimer_real[1])?;
        // CAST: at most `MAX_PENDING`, checked by the length bounds.
        e.u32((self.pending.len() / Self::PENDING_LEN) as u32)?;
        e.u32(0)?;
        e.bytes(self.pending)
    }

    fn decode(d: &mut Decoder<'a>) -> Result<Self, FormatError> {
        let mut r = Self {
            blocked: d.u64()?,
            altstack: [d.u64()?, d.u64()?],
            altstack_flags: d.u32()?,
            umask: d.u32()?,
            rseq: d.u64()?,
            rseq_len: d.u32()?,
            rseq_sig: d.u32()?,
            rlimits: d.array(RLIM_NLIMITS)?,
            actions: d.array(NSIG)?,
            itimer_real: [d.u64()?, d.u64()?],
            pending: &[],
        };
        let n = d.u32()? as usize;
        if d.u32()? != 0 || n > Self::MAX_PENDING {
            return Err(FormatError::BadValue("pending signals"));
        }
        r.pending = d.bytes(n * Self::PENDING_LEN)?;
        // Numbers in range, the siginfo's the same, known flags; SIGKILL
        // and SIGSTOP are never saved pending.
        for c in r.pending.chunks_exact(Self::PENDING_LEN) {
            let word = |i: usize| u32::from_le_bytes([c[i], c[i + 1], c[i + 2], c[i + 3]]);
            let (signo, flags, info_signo) = (word(0), word(4), word(8));
            if signo == 0
                || signo as usize > NSIG
                || signo == 9
                || signo == 19
                || info_signo != signo
                || flags & !Self::PENDING_SHARED != 0
            {
                return Err(FormatError::BadValue("pending signal"));
            }
        }
        if r.umask & !0o777 != 0 {
            return Err(FormatError::BadValue("umask"));
        }
        if r.altstack_flags & !(SS_DISABLE | SS_AUTODISARM) != 0 {
            return Err(FormatError::BadValue("altstack flags"));
        }
        if r.rlimits.iter().any(|[cur, max]| cur > max) {
            return Err(FormatError::BadValue("resource limit"));
        }
        // SIGKILL and SIGSTOP keep their default action.
        let handler = |sig: usize| r.actions.get(sig - 1).map_or(0, |a| a[0]);
        if handler(9) != 0 || handler(19) != 0 {
            return Err(FormatError::BadValue("signal action"));
        }
        Ok(r)
    }

    fn visit(&self, v: &mut dyn Visitor) {
        // The line of text: `blocked 0x0 altstack 0x0+0x0 umask 0o22 nofile
        // 1024/4096 rseq 0x0 itimer_real 0/0 ns pending [10 15s]` (`s`: for
        // the thread group).
        let numbers = |w: &[u64; 2]| [Value::Uint(w[0]), Value::Uint(w[1])];
        v.list(
            Field::new("itimer_real").detail(),
            numbers(&self.itimer_real),
        );
        v.list(
            Field::new("pending").detail(),
            self.pending_signals().map(|p| Value::Uint(p.signo.into())),
        );
        v.hex("blocked", self.blocked);
        v.hex(Field::new("altstack_sp").detail(), self.altstack[0]);
        v.hex(Field::new("altstack_size").detail(), self.altstack[1]);
        v.list(
            Field::text("altstack").sep("+"),
            self.altstack.map(Value::Hex),
        );
        v.hex(Field::new("altstack_flags").detail(), self.altstack_flags);
        v.oct("umask", self.umask);
        let nofile = self.rlimits.get(RLIMIT_NOFILE).unwrap_or_default();
        v.list(Field::text("nofile"), numbers(&nofile));
        v.hex("rseq", self.rseq);
        v.list(
            Field::text("itimer_real").suffix(" ns"),
            numbers(&self.itimer_real),
        );
        v.list(
            Field::text("pending").sep(" ").around("[", "]"),
            self.pending_signals()
                .map(|p| Value::Tagged(p.signo.into(), if p.shared { "s" } else { "" })),
        );
        v.start_list(&Field::new("rlimits").detail());
        for l in self.rlimits.iter() {
            v.item(Value::Words(&l));
        }
        v.end_list();
        v.start_list(&Field::new("actions").detail());
        for a in self.actions.iter() {
            v.item(Value::Words(&a));
        }
        v.end_list();
    }
}

/// How an interrupted system call resumes after restart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum RestartKind {
    /// `nanosleep()` or a relative `clock_nanosleep()`: sleep the rest.
    Nanosleep = 1,
    /// `FUTEX_WAIT` or `FUTEX_WAIT_BITSET` with a timeout: wait the rest.
    FutexWait = 2,
}

impl RestartKind {
    /// Returns the name used by the tools.
    pub fn name(self) -> &'static str {
        match self {
            Self::Nanosleep => "nanosleep",
            Self::FutexWait => "futex_wait",
        }
    }
}

/// The restart block of a task stopped in a system call that returned
/// `-ERESTART_RESTARTBLOCK`: what `restart_syscall()` must do to resume it.
///
/// Times are relative to the checkpoint, so that they survive a reboot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RestartBlock {
    /// What the system call was.
    pub kind: RestartKind,
    /// Clock of the timeout (`CLOCK_*`).
    pub clockid: i32,
    /// Nanoseconds left (0 if due).
    pub remaining_ns: u64,
    /// Sleep: where the time left is reported (0 for none). Futex: the
    /// address of the futex word.
    pub addr: u64,
    /// Sleep: layout of `*addr` (kernel `enum timespec_type`: 0 none,
    /// 1 compat, 2 native). Futex: 0.
    pub rmtp_type: u32,
    /// Futex: the value expected in the word.
    pub futex_val: u32,
    /// Futex: the bitset of the wait.
    pub futex_bitset: u32,
    /// Futex: shared between processes (not `FUTEX_PRIVATE_FLAG`).
    pub futex_shared: bool,
}

impl RestartBlock {
    /// Payload length.
    pub const LEN: usize = 4 * 2 + 8 * 2 + 4 * 4;
}

impl<'a> Payload<'a> for RestartBlock {
    const BOUNDS: (usize, usize) = (Self::LEN, Self::LEN);

    fn encode(&self, e: &mut Encoder<'_>) -> Result<(), FormatError> {
        e.u32(self.kind as u32)?;
        e.i32(self.clockid)?;
        e.u64(self.remaining_ns)?;
        e.u64(self.addr)?;
        e.u32(self.rmtp_type)?;
        e.u32(self.futex_val)?;
        e.u32(self.futex_bitset)?;
        e.u32(u32::from(self.futex_shared))
    }

    fn decode(d: &mut Decoder<'a>) -> Result<Self, FormatError> {
        let kind = match d.u32()? {
            1 => RestartKind::Nanosleep,
            2 => RestartKind::FutexWait,
            _ => return Err(FormatError::BadValue("restart block kind")),
        };
        let r = Self {
            kind,
            clockid: d.i32()?,
            remaining_ns: d.u64()?,
            addr: d.u64()?,
            rmtp_type: d.u32()?,
            futex_val: d.u32()?,
            futex_bitset: d.u32()?,
            futex_shared: match d.u32()? {
                0 => false,
                1 => true,
                _ => return Err(FormatError::BadValue("restart block futex flags")),
            },
        };
        // CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME and CLOCK_TAI for
        // sleeps; the first two for futexes.
        let ok = match kind {
            RestartKind::Nanosleep => {
                [0, 1, 7, 11].contains(&r.clockid)
                    && r.rmtp_type <= 2
                    && r.futex_val == 0
                    && r.futex_bitset == 0
                    && !r.futex_shared
            }
            RestartKind::FutexWait => {
                [0, 1].contains(&r.clockid)
                    && r.rmtp_type == 0
                    && r.futex_bitset != 0
                    && r.addr % 4 == 0
            }
        };
        if !ok {
            return Err(FormatError::BadValue("restart block"));
        }
        Ok(r)
    }

    fn visit(&self, v: &mut dyn Visitor) {
        v.name(Field::new("kind").bare(), self.kind.name());
        v.int(Field::new("clockid").label("clock"), self.clockid);
        let remaining = Field::new("remaining_ns").label("remaining");
        v.uint(remaining.suffix(" ns"), self.remaining_ns);
        v.hex("addr", self.addr);
        v.uint(Field::new("rmtp_type").detail(), self.rmtp_type);
        v.uint(Field::new("futex_val").detail(), self.futex_val);
        v.hex(Field::new("futex_bitset").detail(), self.futex_bitset);
        v.flag(Field::new("futex_shared").detail(), self.futex_shared);
    }
}

/// The root and working directories of a task (its `fs_struct`), as paths
/// seen from the checkpointer's root.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FsRecord<'a> {
    /// Root directory (`chroot()`).
    pub root: &'a [u8],
    /// Working directory.
    pub cwd: &'a [u8],
}

impl FsRecord<'_> {
    /// Payload length without the paths: their lengths.
    pub const MIN_LEN: usize = 8;
}

impl<'a> Payload<'a> for FsRecord<'a> {
    const BOUNDS: (usize, usize) = (Self::MIN_LEN, Self::MIN_LEN + 2 * MAX_PATH);

    fn payload_len(&self) -> usize {
        Self::MIN_LEN + self.root.len() + self.cwd.len()
    }

    fn encode(&self, e: &mut Encoder<'_>) -> Result<(), FormatError> {
        for p in [self.root, self.cwd] {
            // CAST: at most `MAX_PATH`, checked by the length bounds.
            e.u32(p.len() as u32)?;
        }
        e.bytes(self.root)?;
        e.bytes(self.cwd)
    }

    fn decode(d: &mut Decoder<'a>) -> Result<Self, FormatError> {
        let (root_len, cwd_len) = (d.u32()? as usize, d.u32()? as usize);
        if root_len > MAX_PATH || cwd_len > MAX_PATH {
            return Err(FormatError::BadString);
        }
        let r = Self {
            root: d.bytes(root_len)?,
            cwd: d.bytes(cwd_len)?,
        };
        for p in [r.root, r.cwd] {
            if !p.starts_with(b"/") || p.contains(&0) {
                return Err(FormatError::BadString);
            }
        }
        Ok(r)
    }

    fn visit(&self, v: &mut dyn Visitor) {
        v.str("root", self.root);
        v.str("cwd", self.cwd);
    }
}

/// What a process shares with other processes of the image (`clone()`
/// with `CLONE_FILES` or `CLONE_FS` and without `CLONE_THREAD`), after its
/// timers: linux-cr's `ckpt_hdr_task_objs`. A process that shares none
/// has no such record.
///
/// Each objref is 0 for the process's own, whose records follow as usual
/// (the fs record; the fd and lock records; the mm and its areas).
/// Otherwise it names a descriptor table
/// ([`ObjKind::FdTable`](crate::stream::ObjKind)), an fs
/// ([`ObjKind::Fs`](crate::stream::ObjKind)) or an mm
/// ([`ObjKind::Mm`](crate::stream::ObjKind)): the first process that names
/// it defines it, and its records follow; a later one shares it and has
/// none of them. A process shares an mm only with its parent
/// ([`TreeTask::SHARES_MM`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ObjsRecord {
    /// Objref of its descriptor table, or 0.
    pub files_ref: i32,
    /// Objref of its root, working directory and umask, or 0.
    pub fs_ref: i32,
    /// Objref of its memory, or 0.
    pub mm_ref: i32,
}

impl ObjsRecord {
    /// Payload length.
    pub const LEN: usize = 4 * 4;
}

impl<'a> Payload<'a> for ObjsRecord {
    const BOUNDS: (usize, usize) = (Self::LEN, Self::LEN);

    fn encode(&self, e: &mut Encoder<'_>) -> Result<(), FormatError> {
        e.i32(self.files_ref)?;
        e.i32(self.fs_ref)?;
        e.i32(self.mm_ref)?;
        // Room for the signal handlers.
        e.u32(0)
    }

    fn decode(d: &mut Decoder<'a>) -> Result<Self, FormatError> {
        let r = Self {
            files_ref: d.i32()?,
            fs_ref: d.i32()?,
            mm_ref: d.i32()?,
        };
        if d.u32()? != 0 {
            return Err(FormatError::BadValue("objs record reserved field"));
        }
        let refs = [r.files_ref, r.fs_ref, r.mm_ref];
        if refs.iter().any(|&o| o < 0) || refs == [0; 3] {
            return Err(FormatError::BadValue("objs record objrefs"));
        }
        Ok(r)
    }

    fn visit(&self, v: &mut dyn Visitor) {
        v.int("files_ref", self.files_ref);
        v.int("fs_ref", self.fs_ref);
        v.int("mm_ref", self.mm_ref);
    }
}

/// Most tasks an image may hold.
pub const MAX_TASKS: usize = 1 << 12;

/// One task of a [`TreeRecord`]: its place in the tree. Pids are in the pid
/// namespace of the checkpointer; 0 means outside it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TreeTask {
    /// Pid.
    pub pid: i32,
    /// Thread-group id: the pid of its group leader.
    pub tgid: i32,
    /// Pid of its parent (`real_parent`).
    pub ppid: i32,
    /// Process group.
    pub pgid: i32,
    /// Session.
    pub sid: i32,
    /// Signal its parent gets when it exits (`SIGCHLD` for a `fork()`);
    /// 0 for a thread.
    pub exit_signal: u32,
    /// How its parent made it: [`TreeTask::SHARES_MM`], [`TreeTask::VFORK`].
    pub flags: u32,
}

impl TreeTask {
    /// A process made with `clone(CLONE_VM)` (or `vfork()`): it shares its
    /// parent's memory, which its objs record names.
    pub const SHARES_MM: u32 = 1;
    /// Its parent waits in `vfork()` (`CLONE_VFORK`) until it execs or
    /// exits; the parent's system call returns its pid then.
    pub const VFORK: u32 = 2;

    /// Whether it leads its thread group: a process, as its parent and its
    /// other threads see it.
    pub fn is_leader(&self) -> bool {
        self.tgid == self.pid
    }
}

impl LeValue for TreeTask {
    const SIZE: usize = 28;

    fn read(b: &[u8]) -> Self {
        // CAST: pids are stored as the two's complement `u32` of `i32`.
        let f = |i: usize| u32::read(b.get(4 * i..).unwrap_or(&[])) as i32;
        Self {
            pid: f(0),
            tgid: f(1),
            ppid: f(2),
            pgid: f(3),
            sid: f(4),
            // CAST: the words, as written.
            exit_signal: f(5) as u32,
            flags: f(6) as u32,
        }
    }

    fn write(self, out: &mut [u8]) {
        // CAST: stored as the bits of an `i32`, read back as they were.
        let vals = [
            self.pid,
            self.tgid,
            self.ppid,
            self.pgid,
            self.sid,
            self.exit_signal as i32,
            self.flags as i32,
        ];
        for (chunk, v) in out.chunks_mut(4).zip(vals) {
            // CAST: as in `read`.
            (v as u32).write(chunk);
        }
    }
}

/// The tasks of the image and their tree: parents before their children,
/// the root first, each process followed by its other threads, in the order
/// of their task records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TreeRecord<'a> {
    /// The tasks.
    pub tasks: LeArray<'a, TreeTask>,
}

impl Default for TreeRecord<'_> {
    fn default() -> Self {
        Self {
            tasks: LeArray::Values(&[]),
        }
    }
}

impl TreeRecord<'_> {
    /// Payload length without the tasks.
    pub const PREFIX: usize = 8;
}

impl<'a> Payload<'a> for TreeRecord<'a> {
    const BOUNDS: (usize, usize) = (
        Self::PREFIX + TreeTask::SIZE,
        Self::PREFIX + TreeTask::SIZE * MAX_TASKS,
    );

    fn payload_len(&self) -> usize {
        Self::PREFIX + self.tasks.byte_len()
    }

    fn encode(&self, e: &mut Encoder<'_>) -> Result<(), FormatError> {
        // CAST: at most `MAX_TASKS` in any valid record.
        e.u32(self.tasks.len() as u32)?;
        e.u32(0)?;
        e.array(&self.tasks)
    }

    fn decode(d: &mut Decoder<'a>) -> Result<Self, FormatError> {
        let n = d.u32()? as usize;
        if d.u32()? != 0 {
            return Err(FormatError::BadValue("tree reserved field"));
        }
        if n == 0 || n > MAX_TASKS {
            return Err(FormatError::BadValue("tree task count"));
        }
        let tasks = d.array::<TreeTask>(n)?;
        for (i, t) in tasks.iter().enumerate() {
            let earlier = || tasks.iter().take(i);
            if t.pid <= 0
                || t.ppid < 0
                || t.pgid < 0
                || t.sid < 0
                || earlier().any(|e| e.pid == t.pid)
            {
                return Err(FormatError::BadValue("tree pid"));
            }
            if t.tgid != t.pid {
                // A thread comes after its leader, and has the leader's
                // parent, process group and session.
                match earlier().find(|e| e.pid == t.tgid) {
                    Some(l)
                        if l.is_leader() && (l.ppid, l.pgid, l.sid) == (t.ppid, t.pgid, t.sid) => {}
                    _ => return Err(FormatError::BadValue("tree thread group")),
                }
            } else if i > 0 && !earlier().any(|e| e.pid == t.ppid && e.is_leader()) {
                // A process's parent (a thread-group id) comes before it.
                return Err(FormatError::BadValue("tree parent"));
            }
        }
        // A valid signal for a process (0: none), none for a thread.
        if tasks
            .iter()
            .any(|t| t.exit_signal as usize > NSIG || (!t.is_leader() && t.exit_signal != 0))
        {
            return Err(FormatError::BadValue("tree exit signal"));
        }
        // Only a process made by its parent in the tree: not the root, nor
        // a thread.
        let known = TreeTask::SHARES_MM | TreeTask::VFORK;
        if tasks
            .iter()
            .enumerate()
            .any(|(i, t)| t.flags & !known != 0 || (t.flags != 0 && (i == 0 || !t.is_leader())))
        {
            return Err(FormatError::BadValue("tree task flags"));
        }
        Ok(Self { tasks })
    }

    fn visit(&self, v: &mut dyn Visitor) {
        // CAST: at most `MAX_TASKS`.
        v.uint(
            Field::new("tasks").bare().suffix(" tasks"),
            self.tasks.len() as u64,
        );
        v.list(
            "pids",
            self.tasks.iter().map(|t| Value::Int(i64::from(t.pid))),
        );
        v.list(
            Field::new("ppids").detail(),
            self.tasks.iter().map(|t| Value::Int(i64::from(t.ppid))),
        );
        v.list(
            Field::new("pgids").detail(),
            self.tasks.iter().map(|t| Value::Int(i64::from(t.pgid))),
        );
        v.list(
            Field::new("sids").detail(),
            self.tasks.iter().map(|t| Value::Int(i64::from(t.sid))),
        );
        // Only where some process has a flag: the pids that share their
        // parent's memory, and those whose parent waits in vfork().
        let pids = |f: u32| {
            self.tasks
                .iter()
                .filter(move |t| t.flags & f != 0)
                .map(|t| Value::Int(i64::from(t.pid)))
        };
        if pids(TreeTask::SHARES_MM).next().is_some() {
            v.list("shares_mm", pids(TreeTask::SHARES_MM));
        }
        if pids(TreeTask::VFORK).next().is_some() {
            v.list("vfork", pids(TreeTask::VFORK));
        }
    }
}

/// Most levels of pid namespaces below the tree's that a task may be in:
/// the kernel nests at most `MAX_PID_NS_LEVEL` (32) levels.
pub const MAX_NS_DEPTH: u32 = 31;

/// Where one task of the tree is among nested pid namespaces: an entry of
/// a [`PidnsRecord`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TaskNs {
    /// Levels of pid namespaces between the tree's and the task's own.
    pub depth: u32,
    /// [`TaskNs::NEWPID`], [`TaskNs::UNSHARED`].
    pub flags: u32,
}

impl TaskNs {
    /// The init of a pid namespace that its parent made with
    /// `clone(CLONE_NEWPID)`, one level below the parent's.
    pub const NEWPID: u32 = 1;
    /// Its children are made one level below its own namespace, in the
    /// one it made with `unshare(CLONE_NEWPID)`: those of its children
    /// one level below it without [`TaskNs::NEWPID`] are there, the first
    /// its init.
    pub const UNSHARED: u32 = 2;
}

impl LeValue for TaskNs {
    const SIZE: usize = 8;

    fn read(b: &[u8]) -> Self {
        Self {
            depth: u32::read(b),
            flags: u32::read(b.get(4..).unwrap_or(&[])),
        }
    }

    fn write(self, out: &mut [u8]) {
        self.depth.write(out);
        if let Some(o) = out.get_mut(4..) {
            self.flags.write(o);
        }
    }
}

/// The pid namespaces nested in the tree's, right after the
/// [`TreeRecord`] of a tree that has any: linux-cr's nested pids. Each
/// task has an entry, in the order of the tree, and the pids it has below
/// the tree's namespace, from the level below it down to its own, in
/// `pids`, one task after the other. The tree record holds each task's pid
/// in the tree's namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PidnsRecord<'a> {
    /// One per task of the tree.
    pub tasks: LeArray<'a, TaskNs>,
    /// The tasks' pids in the nested namespaces, `depth` for each.
    pub pids: LeArray<'a, u32>,
}

impl Default for PidnsRecord<'_> {
    fn default() -> Self {
        Self {
            tasks: LeArray::Values(&[]),
            pids: LeArray::Values(&[]),
        }
    }
}

impl PidnsRecord<'_> {
    /// Payload length without the arrays.
    pub const PREFIX: usize = 8;

    /// The pids of task `i` below the tree's namespace, from the level
    /// below it down to its own: [`PidnsRecord::check`]ed, they are
    /// positive.
    pub fn pids_of(&self, i: usize) -> impl Iterator<Item = i32> + '_ {
        let start: usize = self.tasks.iter().take(i).map(|t| t.depth as usize).sum();
        let depth = self.tasks.get(i).map_or(0, |t| t.depth as usize);
        // CAST: checked to be at most `i32::MAX`.
        (start..start + depth).map(|j| self.pids.get(j).unwrap_or(0) as i32)
    }

    /// Checks the record against the `tree` it follows: a task is in its
    /// parent's namespace, or is the init of one that its parent made, or
    /// is in the one its parent unshared, whose init its parent made too;
    /// a thread is where its leader is.
    pub fn check(&self, tree: &TreeRecord<'_>) -> Result<(), FormatError> {
        let bad = || FormatError::BadValue("pid namespaces of the tree");
        if self.tasks.len() != tree.tasks.len() {
            return Err(bad());
        }
        let pos = |pid: i32| tree.tasks.iter().position(|t| t.pid == pid);
        for (i, (t, ns)) in tree.tasks.iter().zip(self.tasks.iter()).enumerate() {
            let own = self.pids_of(i).last();
            if i == 0 {
                if ns.depth != 0 || ns.flags & TaskNs::NEWPID != 0 {
                    return Err(bad());
                }
                continue;
            }
            if !t.is_leader() {
                // Where its leader is; a group with threads makes none in a
                // namespace below (clone() refuses it).
                let leader = pos(t.tgid)
                    .and_then(|l| self.tasks.get(l))
                    .ok_or_else(bad)?;
                if ns.depth != leader.depth || ns.flags != 0 || leader.flags & TaskNs::UNSHARED != 0
                {
                    return Err(bad());
                }
                continue;
            }
            let up = pos(t.ppid)
                .and_then(|p| self.tasks.get(p))
                .ok_or_else(bad)?;
            let ok = if ns.depth == up.depth {
                ns.flags & TaskNs::NEWPID == 0
            } else if ns.depth == up.depth + 1 {
                if ns.flags & TaskNs::NEWPID != 0 {
                    own == Some(1)
                } else {
                    // The first of its parent's children there is its init.
                    let first = tree.tasks.iter().enumerate().find(|&(j, c)| {
                        c.is_leader()
                            && c.ppid == t.ppid
                            && self.tasks.get(j).is_some_and(|n| {
                                n.depth == ns.depth && n.flags & TaskNs::NEWPID == 0
                            })
                    });
                    up.flags & TaskNs::UNSHARED != 0
                        && first.is_some_and(|(j, _)| self.pids_of(j).last() == Some(1))
                }
            } else {
                false
            };
            if !ok {
                return Err(bad());
            }
        }
        Ok(())
    }
}

impl<'a> Payload<'a> for PidnsRecord<'a> {
    const BOUNDS: (usize, usize) = (
        Self::PREFIX + TaskNs::SIZE,
        Self::PREFIX + (TaskNs::SIZE + 4 * MAX_NS_DEPTH as usize) * MAX_TASKS,
    );

    fn payload_len(&self) -> usize {
        Self::PREFIX + self.tasks.byte_len() + self.pids.byte_len()
    }

    fn encode(&self, e: &mut Encoder<'_>) -> Result<(), FormatError> {
        // CAST: bounded by `MAX_TASKS` and `MAX_NS_DEPTH` in a valid record.
        e.u32(self.tasks.len() as u32)?;
        e.u32(self.pids.len() as u32)?;
        e.array(&self.tasks)?;
        e.array(&self.pids)
    }

    fn decode(d: &mut Decoder<'a>) -> Result<Self, FormatError> {
        let (n, npids) = (d.u32()? as usize, d.u32()? as usize);
        if n == 0 || n > MAX_TASKS {
            return Err(FormatError::BadValue("pidns task count"));
        }
        let tasks = d.array::<TaskNs>(n)?;
        let known = TaskNs::NEWPID | TaskNs::UNSHARED;
        if tasks
            .iter()
            .any(|t| t.depth > MAX_NS_DEPTH || t.flags & !known != 0)
        {
            return Err(FormatError::BadValue("pidns task"));
        }
        if tasks.iter().map(|t| t.depth as usize).sum::<usize>() != npids {
            return Err(FormatError::BadValue("pidns pid count"));
        }
        let pids = d.array::<u32>(npids)?;
        if pids.iter().any(|p| p == 0 || p > i32::MAX as u32) {
            return Err(FormatError::BadValue("pidns pid"));
        }
        Ok(Self { tasks, pids })
    }

    fn visit(&self, v: &mut dyn Visitor) {
        v.list(
            "depths",
            self.tasks.iter().map(|t| Value::Int(i64::from(t.depth))),
        );
        v.list(
            Field::new("flags").detail(),
            self.tasks.iter().map(|t| Value::Int(i64::from(t.flags))),
        );
        v.list("pids", self.pids.iter().map(|p| Value::Int(i64::from(p))));
    }
}
