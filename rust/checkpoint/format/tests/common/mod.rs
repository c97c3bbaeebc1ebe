// SPDX-License-Identifier: GPL-2.0

//! Records that every task of an image has, for tests that build whole
//! images: a task needs CPU state, signals, fs and an mm (stream.rs, `TASK`).

#![allow(dead_code)]

use ckpt_format::*;

static RLIMITS: [[u64; 2]; RLIM_NLIMITS] = [[0; 2]; RLIM_NLIMITS];
static ACTIONS: [[u64; 4]; NSIG] = [[0; 4]; NSIG];

/// An x86-64 cpu record.
pub fn cpu() -> Record<'static> {
    Record::Arch(ArchRecord::X86_64Cpu(CpuX86_64 { regs: [0; 23] }))
}

/// A signals record of a new program.
pub fn signals() -> Record<'static> {
    Record::Signals(SignalsRecord {
        blocked: 0,
        altstack: [0, 0],
        altstack_flags: SS_DISABLE,
        umask: 0o022,
        rseq: 0,
        rseq_len: 0,
        rseq_sig: 0,
        rlimits: LeArray::Values(&RLIMITS),
        actions: LeArray::Values(&ACTIONS),
        itimer_real: [0, 0],
        pending: &[],
    })
}

/// An fs record: root and working directory `/`.
pub fn root_fs() -> Record<'static> {
    Record::Fs(FsRecord {
        root: b"/",
        cwd: b"/",
    })
}

/// An mm record with no executable and an empty auxiliary vector.
pub fn empty_mm() -> Record<'static> {
    Record::Mm(MmRecord {
        layout: [0; 11],
        flags: 0,
        def_flags: 0,
        exe_ref: 0,
        inherits: false,
        auxv: LeArray::Values(&[]),
    })
}

static ONE_TASK: [TreeTask; 1] = [TreeTask {
    pid: 42,
    tgid: 42,
    ppid: 1,
    pgid: 42,
    sid: 42,
    exit_signal: 17,
    flags: 0,
}];

/// The tree record of an image of one task, pid 42.
pub fn tree() -> Record<'static> {
    Record::Tree(TreeRecord {
        tasks: LeArray::Values(&ONE_TASK),
    })
}
