// SPDX-License-Identifier: GPL-2.0

//! The fields records show to a visitor: every record type shows its
//! fields under distinct JSON keys, lists are well formed.

use ckpt_format::visit::{Field, Shown, Value, Visitor};
use ckpt_format::*;

/// Records what a record shows, and checks the shape of its calls.
#[derive(Default)]
struct Recorder {
    keys: Vec<&'static str>,
    text: Vec<&'static str>,
    list: Option<Field>,
    items: usize,
}

impl Recorder {
    fn add(&mut self, f: &Field) {
        match f.shown {
            Shown::Text => assert_eq!(f.key, "", "text-only field {f:?} has a key"),
            _ => {
                assert!(!f.key.is_empty(), "JSON field without a key: {f:?}");
                assert!(!self.keys.contains(&f.key), "key {} twice", f.key);
                self.keys.push(f.key);
            }
        }
        if f.in_text() {
            self.text.push(f.label);
        }
    }
}

impl Visitor for Recorder {
    fn field(&mut self, f: &Field, _: Value<'_>) {
        assert!(self.list.is_none(), "field {f:?} inside a list");
        self.add(f);
    }

    fn start_list(&mut self, f: &Field) {
        assert!(self.list.is_none(), "nested list {f:?}");
        self.add(f);
        self.list = Some(*f);
    }

    fn item(&mut self, _: Value<'_>) {
        assert!(self.list.is_some(), "item outside a list");
        self.items += 1;
    }

    fn end_list(&mut self) {
        assert!(self.list.take().is_some(), "end of no list");
    }
}

fn visit(r: &Record<'_>) -> Recorder {
    let mut v = Recorder::default();
    r.visit(&mut v);
    assert!(v.list.is_none(), "{:?}: unended list", r.ty());
    v
}

#[test]
fn every_record_type_shows_its_fields() {
    let area = [0u8; Xstate::MIN_AREA];
    let rlimits = [[0u64; 2]; RLIM_NLIMITS];
    let actions = [[0u64; 4]; NSIG];
    let pages = {
        let (hdr, prefix) = PagesRecord::head(1, 4096).unwrap();
        let mut v = hdr.encode().to_vec();
        v.extend(prefix);
        v.extend(0x1000u64.to_le_bytes());
        v.extend([7u8; 4096]);
        v
    };
    let pages = stream::Records::new(&pages).next().unwrap().unwrap().record;
    let samples = [
        Header {
            version: FORMAT_VERSION,
            flags: 0,
            arch: Arch::X86_64,
            page_size: 4096,
            ckpt_id: 1,
            time: 2,
            release: b"r",
            version_str: b"v",
            machine: b"m",
        }
        .into_record(),
        TaskRecord::default().into_record(),
        SignalsRecord {
            blocked: 0,
            altstack: [0; 2],
            altstack_flags: 0,
            umask: 0o22,
            rseq: 0,
            rseq_len: 0,
            rseq_sig: 0,
            rlimits: LeArray::Values(&rlimits),
            actions: LeArray::Values(&actions),
            itimer_real: [0; 2],
            pending: &[],
        }
        .into_record(),
        FsRecord::default().into_record(),
        RestartBlock {
            kind: RestartKind::Nanosleep,
            clockid: 1,
            remaining_ns: 1,
            addr: 0,
            rmtp_type: 0,
            futex_val: 0,
            futex_bitset: 0,
            futex_shared: false,
        }
        .into_record(),
        TreeRecord {
            tasks: LeArray::Values(&[TreeTask {
                pid: 5,
                tgid: 5,
                ppid: 1,
                pgid: 5,
                sid: 5,
                exit_signal: 17,
                flags: 2,
            }]),
        }
        .into_record(),
        TimerRecord {
            kind: Some(TimerKind::Posix),
            signo: 10,
            expiry: 5,
            ..Default::default()
        }
        .into_record(),
        ObjsRecord {
            files_ref: 2,
            fs_ref: 3,
            mm_ref: 4,
        }
        .into_record(),
        PidnsRecord {
            tasks: LeArray::Values(&[TaskNs {
                depth: 1,
                flags: TaskNs::NEWPID,
            }]),
            pids: LeArray::Values(&[1]),
        }
        .into_record(),
        CredRecord::default().into_record(),
        MmRecord {
            layout: [0; 11],
            flags: 0,
            def_flags: 0,
            exe_ref: 0,
            inherits: false,
            auxv: LeArray::default(),
        }
        .into_record(),
        VmaRecord {
            start: 0x1000,
            end: 0x2000,
            flags: 0,
            pgoff: 0,
            kind: VmaKind::Anon,
            file_ref: 0,
        }
        .into_record(),
        pages,
        CowRecord {
            runs: LeArray::Values(&[CowRun {
                addr: 0x1000,
                pages: 1,
            }]),
        }
        .into_record(),
        CpuX86_64 { regs: [0; 23] }.into_record(),
        Xstate { area: &area }.into_record(),
        FileRecord {
            objref: 1,
            kind: FileKind::Regular,
            flags: 0,
            mode: 0o100644,
            rdev: 0,
            pos: 0,
            data: FileData::Path(b"/f"),
        }
        .into_record(),
        FdRecord {
            fd: 0,
            objref: 1,
            cloexec: false,
        }
        .into_record(),
        PipeRecord {
            objref: 2,
            size: 65536,
            data: b"abc",
            fifo: b"/run/f",
        }
        .into_record(),
        UnlinkedRecord {
            objref: 3,
            mode: 0o100600,
            dir: b"/tmp",
            size: 3,
            data: b"abc",
        }
        .into_record(),
        LockRecord {
            objref: 1,
            kind: LockKind::Posix,
            write: false,
            start: 0,
            end: 9,
        }
        .into_record(),
        ShmemRecord {
            objref: 4,
            memfd: true,
            seals: 7,
            mode: 0o100777,
            name: b"m",
            size: 3,
            data: b"abc",
        }
        .into_record(),
        ContentsRecord {
            objref: 4,
            offset: 3,
            data: b"d",
        }
        .into_record(),
        Tail.into_record(),
        ErrorRecord {
            errno: 1,
            objref: 0,
            msg: b"m",
        }
        .into_record(),
    ];
    // One sample per record type, in the order of their numbers.
    let all: Vec<_> = (0..10_000)
        .filter_map(|n| RecordType::from_u32(n).ok())
        .collect();
    assert_eq!(samples.map(|r| r.ty()).to_vec(), all);
    for r in &samples {
        let v = visit(r);
        // Every record but the tail shows something in both forms.
        assert_eq!(v.keys.is_empty(), r.ty() == RecordType::Tail, "{r:?}");
        assert_eq!(v.text.is_empty(), r.ty() == RecordType::Tail, "{r:?}");
    }
    // What the kselftests look for.
    let of = |ty| visit(samples.iter().find(|r| r.ty() == ty).unwrap());
    let vma = of(RecordType::Vma);
    assert_eq!(vma.keys[..2], ["start", "end"]);
    assert!(vma.keys.contains(&"file"));
    let cpu = visit(&CpuX86_64 { regs: [0; 23] }.into_record());
    assert_eq!(cpu.keys, CpuX86_64::NAMES);
    let signals = of(RecordType::Signals);
    assert!(signals.text.contains(&"pending"));
    assert_eq!(signals.items, 2 + 2 + 2 + 2 + RLIM_NLIMITS + NSIG);
}

#[test]
fn field_builders() {
    let f = Field::new("cred_ref").label("cred");
    assert_eq!((f.key, f.label, f.shown), ("cred_ref", "cred", Shown::Both));
    assert!(f.in_json() && f.in_text());
    let d = Field::new("flags").detail();
    assert!(d.in_json() && !d.in_text());
    let t = Field::text("nofile").sep(",").around("[", "]");
    assert!(!t.in_json() && t.in_text());
    assert_eq!(
        (t.key, t.label, t.sep, t.prefix, t.suffix),
        ("", "nofile", ",", "[", "]")
    );
    assert_eq!(Field::new("comm").quoted().prefix, "\"");
    assert_eq!(Field::new("size").bare().suffix(" bytes").label, "");
    assert_eq!(Field::from("pid"), Field::new("pid"));
}
