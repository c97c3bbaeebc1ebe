// SPDX-License-Identifier: GPL-2.0

//! Round-trips and validation rules of the image format.

mod common;

use ckpt_format::stream::{validate, ObjMap, Records, StreamCheck};
use ckpt_format::*;

fn header() -> Record<'static> {
    Record::Header(Header {
        version: FORMAT_VERSION,
        flags: 0,
        arch: Arch::X86_64,
        page_size: 4096,
        ckpt_id: 7,
        time: 1_700_000_000,
        release: b"6.12.117",
        version_str: b"#1 SMP PREEMPT_DYNAMIC",
        machine: b"x86_64",
    })
}

fn cred(objref: i32) -> Record<'static> {
    Record::Cred(CredRecord {
        objref,
        uids: [0, 1, 2, 3],
        gids: [4, 5, 6, 7],
        securebits: 0x2f,
        caps: [1, 2, 3, 4, 5],
        groups: LeArray::Values(&[10, 20, 30]),
    })
}

#[test]
fn cred_groups_must_be_sorted() {
    let rec = Record::Cred(CredRecord {
        objref: 1,
        groups: LeArray::Values(&[20, 10]),
        ..Default::default()
    });
    let mut buf = vec![0u8; 256];
    let n = rec.encode(&mut buf).unwrap();
    let hdr = RecordHeader::decode(buf[..8].try_into().unwrap()).unwrap();
    assert!(Record::decode(&hdr, &buf[8..n][..hdr.payload_len()]).is_err());
    match cred(1) {
        Record::Cred(c) => assert_eq!(c.groups.iter().collect::<Vec<_>>(), [10, 20, 30]),
        _ => unreachable!(),
    }
}

fn task(cred_ref: i32) -> Record<'static> {
    Record::Task(TaskRecord {
        pid: 42,
        tgid: 42,
        ppid: 1,
        cred_ref,
        comm: b"counter",
        oom_score_adj: 400,
        flags: TaskRecord::NO_NEW_PRIVS,
        robust_list: 0x7fff_0000_1000,
        robust_list_len: 24,
        clear_child_tid: 0x7fff_0000_2000,
        exit_status: 0,
    })
}

fn fs() -> Record<'static> {
    Record::Fs(FsRecord {
        root: b"/",
        cwd: b"/tmp/work dir",
    })
}

#[test]
fn fs_record_rules() {
    let f = Record::Fd(FdRecord {
        fd: 0,
        objref: 2,
        cloexec: false,
    });
    let file = Record::File(FileRecord {
        objref: 2,
        kind: FileKind::CharDevice,
        flags: 0,
        mode: 0o20666,
        rdev: 259,
        pos: 0,
        data: FileData::Path(b"/dev/null"),
    });
    let mut s = StreamCheck::new();
    let mut o = ObjMap::default();
    for r in [
        header(),
        common::tree(),
        cred(1),
        task(1),
        common::cpu(),
        common::signals(),
        fs(),
        file,
        f,
    ] {
        s.next(&r, &mut o).unwrap();
    }
    // After the files, or twice, it is out of place.
    assert_eq!(
        s.next(&fs(), &mut o),
        Err(FormatError::Order("fs record out of place"))
    );
    // Relative paths and embedded NULs are refused.
    for bad in [&b"tmp"[..], b"/a\0b", b""] {
        let r = Record::Fs(FsRecord {
            root: b"/",
            cwd: bad,
        });
        let buf = image(&[r]);
        assert!(Records::new(&buf).any(|i| i.is_err()), "{bad:?}");
    }
}

fn image(records: &[Record<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for r in records {
        let mut buf = vec![0u8; r.payload_len() + 64];
        let n = r.encode(&mut buf).unwrap();
        assert_eq!(n % RECORD_ALIGN, 0);
        out.extend_from_slice(&buf[..n]);
    }
    out
}

/// The records of task 1 after its task record.
fn rest_of_task() -> [Record<'static>; 4] {
    [
        common::cpu(),
        common::signals(),
        common::root_fs(),
        common::empty_mm(),
    ]
}

fn good() -> Vec<u8> {
    let mut v = vec![header(), common::tree(), cred(1), task(1)];
    v.extend(rest_of_task());
    v.push(Record::Tail(Tail));
    image(&v)
}

fn check(buf: &[u8]) -> Result<usize, FormatError> {
    validate(buf, &mut ObjMap::default(), |_| {}).map_err(|(_, e)| e)
}

#[test]
fn round_trip_every_record() {
    let err = Record::Error(ErrorRecord {
        errno: 16,
        objref: 3,
        msg: b"fd 4: pipe not supported",
    });
    for r in [header(), cred(9), task(9), fs(), Record::Tail(Tail), err] {
        let buf = image(&[r]);
        let items: Vec<_> = Records::new(&buf).collect::<Result<_, _>>().unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].record, r);
        assert_eq!(items[0].header.ty, r.ty());
        assert_eq!(
            items[0].header.len as usize,
            RECORD_HEADER_LEN + r.payload_len()
        );
    }
}

#[test]
fn good_image_validates() {
    let buf = good();
    let mut seen = Vec::new();
    let len = validate(&buf, &mut ObjMap::default(), |i| seen.push(i.record.ty())).unwrap();
    assert_eq!(len, buf.len());
    assert_eq!(
        seen,
        [
            RecordType::Header,
            RecordType::Tree,
            RecordType::Cred,
            RecordType::Task,
            RecordType::X86_64Cpu,
            RecordType::Signals,
            RecordType::Fs,
            RecordType::Mm,
            RecordType::Tail
        ]
    );
}

#[test]
fn bytes_after_tail_are_not_read() {
    let mut buf = good();
    let len = buf.len();
    buf.extend_from_slice(b"trailing data of the stream");
    assert_eq!(check(&buf), Ok(len));
}

#[test]
fn empty_and_truncated_images() {
    assert_eq!(check(&[]), Err(FormatError::Truncated));
    let buf = good();
    for cut in 0..buf.len() {
        assert!(check(&buf[..cut]).is_err(), "image cut at {cut} accepted");
    }
}

#[test]
fn every_single_bit_flip_is_refused_or_harmless() {
    // A flip in a string or numeric field may yield another valid image; it
    // must never panic, and a flip in any header or magic must be refused.
    let buf = good();
    for byte in 0..buf.len() {
        for bit in 0..8 {
            let mut b = buf.clone();
            b[byte] ^= 1 << bit;
            let _ = check(&b);
        }
    }
    for byte in 0..8 {
        let mut b = buf.clone();
        b[byte] ^= 0x40;
        assert!(check(&b).is_err(), "flip in first record header at {byte}");
    }
}

#[test]
fn wrong_magic_and_version() {
    let mut buf = good();
    buf[8] ^= 1;
    assert_eq!(check(&buf), Err(FormatError::BadMagic));
    let mut buf = good();
    buf[16..20].copy_from_slice(&1u32.to_le_bytes());
    assert_eq!(check(&buf), Err(FormatError::BadVersion(1)));
    let mut buf = good();
    buf[24..28].copy_from_slice(&77u32.to_le_bytes());
    assert_eq!(check(&buf), Err(FormatError::BadArch(77)));
}

#[test]
fn oversized_and_undersized_lengths() {
    for len in [0u32, 7, 8, 100, 4096, MAX_RECORD_LEN, u32::MAX] {
        let mut buf = good();
        buf[4..8].copy_from_slice(&len.to_le_bytes());
        assert!(
            matches!(check(&buf), Err(FormatError::BadLength { ty: 1, .. })),
            "length {len}"
        );
    }
}

#[test]
fn unknown_type() {
    let mut buf = good();
    buf[0..4].copy_from_slice(&12345u32.to_le_bytes());
    assert_eq!(check(&buf), Err(FormatError::UnknownType(12345)));
}

#[test]
fn nonzero_padding() {
    let buf = good();
    // The header record's payload does not end on an 8-byte boundary.
    let hdr_len = RECORD_HEADER_LEN + Header::LEN;
    assert_ne!(padding(hdr_len), 0);
    let mut b = buf.clone();
    b[hdr_len] = 1;
    assert_eq!(check(&b), Err(FormatError::BadPadding));
}

#[test]
fn unterminated_and_unpadded_strings() {
    let name_off = RECORD_HEADER_LEN + 40;
    let mut b = good();
    b[name_off..name_off + UTS_LEN].fill(b'a');
    assert_eq!(check(&b), Err(FormatError::BadString));
    let mut b = good();
    b[name_off + UTS_LEN - 2] = b'x';
    assert_eq!(check(&b), Err(FormatError::BadString));
}

#[test]
fn encoder_refuses_overlong_strings() {
    let long = [b'a'; UTS_LEN];
    let r = Record::Header(Header {
        release: &long,
        ..match header() {
            Record::Header(h) => h,
            _ => unreachable!(),
        }
    });
    assert_eq!(r.encode(&mut [0u8; 512]), Err(FormatError::BadString));
    assert_eq!(header().encode(&mut [0u8; 64]), Err(FormatError::NoSpace));
}

#[test]
fn error_message_is_bounded() {
    let long = [b'm'; 1000];
    let r = Record::Error(ErrorRecord {
        errno: 5,
        objref: 0,
        msg: &long,
    });
    let buf = image(&[r]);
    let item = Records::new(&buf).next().unwrap().unwrap();
    match item.record {
        Record::Error(e) => assert_eq!(e.msg.len(), MAX_ERROR_MSG),
        _ => panic!("not an error record"),
    }
}

#[test]
fn error_record_aborts_the_stream() {
    let err = Record::Error(ErrorRecord {
        errno: 16,
        objref: 0,
        msg: b"busy",
    });
    let buf = image(&[header(), err]);
    assert_eq!(check(&buf), Err(FormatError::CheckpointFailed(16)));
}

#[test]
fn stream_order_rules() {
    let t = Record::Tail(Tail);
    assert_eq!(
        check(&image(&[cred(1), header(), t])),
        Err(FormatError::Order("image does not start with a header"))
    );
    assert_eq!(
        check(&image(&[header(), header()])),
        Err(FormatError::Order("second header"))
    );
    assert_eq!(
        check(&image(&[header(), common::tree(), t])),
        Err(FormatError::Order("image has no task"))
    );
    let mut s = StreamCheck::new();
    let mut o = ObjMap::default();
    for r in [header(), common::tree(), cred(1), task(1)] {
        s.next(&r, &mut o).unwrap();
    }
    // A task needs its records up to its mm.
    assert_eq!(
        s.next(&t, &mut o),
        Err(FormatError::Order("image ends in the middle of a task"))
    );
    for r in rest_of_task().into_iter().chain([t]) {
        s.next(&r, &mut o).unwrap();
    }
    assert_eq!(
        s.next(&t, &mut o),
        Err(FormatError::Order("record after the tail"))
    );
}

#[test]
fn objref_rules() {
    let t = Record::Tail(Tail);
    assert_eq!(
        check(&image(&[header(), common::tree(), task(1), t])),
        Err(FormatError::MissingObjref(1))
    );
    assert_eq!(
        check(&image(&[header(), cred(1), cred(1)])),
        Err(FormatError::DuplicateObjref(1))
    );
    assert_eq!(
        check(&image(&[header(), cred(0)])),
        Err(FormatError::BadObjref(0))
    );
    assert_eq!(
        check(&image(&[header(), cred(-3)])),
        Err(FormatError::BadObjref(-3))
    );
    assert_eq!(
        check(&image(&[header(), common::tree(), cred(1), task(-1)])),
        Err(FormatError::BadObjref(-1))
    );
}

#[test]
fn bad_field_values() {
    let bad_task = Record::Task(TaskRecord {
        pid: 0,
        tgid: 1,
        ppid: 0,
        cred_ref: 1,
        comm: b"x",
        ..Default::default()
    });
    assert_eq!(
        check(&image(&[header(), common::tree(), cred(1), bad_task])),
        Err(FormatError::BadValue("task pid"))
    );
    let mut buf = good();
    // Page size field.
    buf[28..32].copy_from_slice(&3000u32.to_le_bytes());
    assert_eq!(check(&buf), Err(FormatError::BadValue("page size")));
}

#[test]
fn bad_tail_magic() {
    let mut buf = good();
    let n = buf.len();
    buf[n - 1] ^= 0x80;
    assert_eq!(check(&buf), Err(FormatError::BadTail));
}

#[test]
fn uapi_header_flags_match() {
    // The C uapi header is the ABI seen by C programs; it must agree with
    // the masks defined here.
    let h = include_str!("../../../../include/uapi/linux/checkpoint.h");
    assert!(h.contains(&format!(
        "#define CHECKPOINT_FLAGS_MASK\t0x{:x}",
        CHECKPOINT_FLAGS_MASK
    )));
    assert!(h.contains(&format!(
        "#define RESTART_FLAGS_MASK\t0x{:x}",
        RESTART_FLAGS_MASK
    )));
    assert!(h.contains(&format!("#define RESTART_FROZEN\t\t0x{:x}", RESTART_FROZEN)));
    assert!(h.contains(&format!("#define RESTART_TREE\t\t0x{:x}", RESTART_TREE)));
    assert!(h.contains(&format!(
        "#define CHECKPOINT_SUBTREE\t0x{:x}",
        CHECKPOINT_SUBTREE
    )));
}

#[test]
fn type_codes_and_names() {
    let all = [
        (RecordType::Header, 1, "header"),
        (RecordType::Task, 101, "task"),
        (RecordType::Signals, 102, "signals"),
        (RecordType::Fs, 103, "fs"),
        (RecordType::RestartBlock, 104, "restart_block"),
        (RecordType::Tree, 105, "tree"),
        (RecordType::Cred, 111, "cred"),
        (RecordType::Mm, 201, "mm"),
        (RecordType::Vma, 202, "vma"),
        (RecordType::Pages, 203, "pages"),
        (RecordType::X86_64Cpu, 301, "cpu"),
        (RecordType::X86Xstate, 302, "xstate"),
        (RecordType::File, 401, "file"),
        (RecordType::Fd, 402, "fd"),
        (RecordType::Tail, 5001, "tail"),
        (RecordType::Error, 9001, "error"),
    ];
    for (ty, code, name) in all {
        assert_eq!(ty as u32, code);
        assert_eq!(RecordType::from_u32(code), Ok(ty));
        assert_eq!(ty.name(), name);
        let (min, max) = ty.payload_bounds();
        assert!(min <= max, "{name}");
    }
    // The restart block was an x86 record (303) before version 4.
    assert_eq!(
        RecordType::from_u32(303),
        Err(FormatError::UnknownType(303))
    );
    assert_eq!(Arch::from_u32(5), Ok(Arch::Arm64));
    assert_eq!(Arch::Arm64.name(), "aarch64");
    assert_eq!(Arch::from_u32(6), Err(FormatError::BadArch(6)));
}

#[test]
fn typed_reads() {
    fn read<'a, T: RecordKind<'a>>(buf: &'a [u8]) -> Option<T> {
        let item = Records::new(buf).next().unwrap().unwrap();
        assert_eq!(item.header.ty, T::TYPE);
        T::from_record(item.record)
    }
    let buf = image(&[task(3)]);
    let t: TaskRecord<'_> = read(&buf).unwrap();
    assert_eq!((t.pid, t.cred_ref), (42, 3));
    assert_eq!(t.into_record(), task(3));
    assert_eq!(CredRecord::from_record(task(3)), None);
    let cpu = CpuX86_64 { regs: [7; 23] };
    assert_eq!(cpu.into_record(), Record::Arch(ArchRecord::X86_64Cpu(cpu)));
    assert_eq!(CpuX86_64::from_record(cpu.into_record()), Some(cpu));
    assert_eq!(Xstate::from_record(cpu.into_record()), None);
    assert_eq!(<CpuX86_64 as RecordKind<'_>>::TYPE, RecordType::X86_64Cpu);
    assert_eq!(<Xstate<'_> as RecordKind<'_>>::TYPE, RecordType::X86Xstate);
    let a = ArchRecord::X86_64Cpu(cpu);
    assert_eq!((a.arch(), a.ty()), (Arch::X86_64, RecordType::X86_64Cpu));
}

#[test]
fn le_arrays() {
    let bytes = [1u8, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0];
    let b: LeArray<'_, u32> = LeArray::Bytes(&bytes);
    let v: LeArray<'_, u32> = LeArray::Values(&[1, 2, 3]);
    assert_eq!(b, v);
    assert_ne!(b, LeArray::Values(&[1, 2]));
    assert_ne!(b, LeArray::Values(&[1, 2, 4]));
    assert_eq!(
        (b.len(), b.byte_len(), b.get(2), b.get(3)),
        (3, 12, Some(3), None)
    );
    assert_eq!(b.iter().collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(b.get(usize::MAX), None);
    let e: LeArray<'_, [u64; 2]> = LeArray::default();
    assert!(e.is_empty() && e.byte_len() == 0);
    let w: LeArray<'_, [u64; 2]> =
        LeArray::Bytes(&[1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 9]);
    assert_eq!((w.len(), w.get(0)), (1, Some([1, 2])));
    let mut out = [0u8; 16];
    [5u64, 6].write(&mut out);
    assert_eq!(<[u64; 2]>::read(&out), [5, 6]);
    assert_eq!(u32::read(&[1, 2]), 0x0201);
}

#[test]
fn arch_records_belong_to_the_image_arch() {
    let cpu = Record::Arch(ArchRecord::X86_64Cpu(CpuX86_64 { regs: [0; 23] }));
    let arm = match header() {
        Record::Header(h) => Record::Header(Header {
            arch: Arch::Arm64,
            ..h
        }),
        _ => unreachable!(),
    };
    assert_eq!(
        check(&image(&[arm, common::tree(), cred(1), task(1), cpu])),
        Err(FormatError::BadValue("cpu record of another architecture"))
    );
    assert_eq!(check(&good()).map(|_| ()), Ok(()));
}

fn pipe_end(objref: i32, pipe: i32, flags: u32) -> Record<'static> {
    Record::File(FileRecord {
        objref,
        kind: FileKind::Pipe,
        flags,
        mode: 0o10600,
        rdev: 0,
        pos: 0,
        data: FileData::Pipe { pipe },
    })
}

/// Decodes the records of `records` alone, as `Records` does.
fn decodes(records: &[Record<'_>]) -> bool {
    Records::new(&image(records)).all(|i| i.is_ok())
}

#[test]
fn pipes_and_eventfds_round_trip() {
    let data = [7u8; 5000];
    let pipe = Record::Pipe(PipeRecord {
        objref: 2,
        size: 1 << 17,
        data: &data,
        fifo: b"",
    });
    let efd = Record::File(FileRecord {
        objref: 5,
        kind: FileKind::Eventfd,
        flags: 0o4002,
        mode: 0o600,
        rdev: 0,
        pos: 0,
        data: FileData::Eventfd {
            count: 1 << 40,
            semaphore: true,
        },
    });
    let recs = [pipe, pipe_end(3, 2, 0), pipe_end(4, 2, 0o4001), efd];
    let buf = image(&recs);
    let back: Vec<_> = Records::new(&buf).map(|i| i.unwrap().record).collect();
    assert_eq!(back, recs);
}

#[test]
fn pipe_rules() {
    let (mut s, mut o) = stream_after(&[
        header(),
        common::tree(),
        cred(1),
        task(1),
        common::cpu(),
        common::signals(),
        fs(),
    ]);
    // An end names a pipe defined before it.
    assert_eq!(
        s.next(&pipe_end(3, 2, 0), &mut o),
        Err(FormatError::MissingObjref(2))
    );
    let pipe = |size, data: &'static [u8]| {
        Record::Pipe(PipeRecord {
            objref: 2,
            size,
            data,
            fifo: b"",
        })
    };
    s.next(&pipe(4096, b"abc"), &mut o).unwrap();
    s.next(&pipe_end(3, 2, 0), &mut o).unwrap();
    // Not an end of a file record, though.
    assert_eq!(
        s.next(&pipe_end(4, 3, 1), &mut o),
        Err(FormatError::WrongObjKind(3))
    );
    // More data than the pipe holds, or a size a pipe cannot have.
    assert!(!decodes(&[pipe(4096, &[0; 4097])]));
    assert!(!decodes(&[pipe(3 << 12, b"")]));
    assert!(!decodes(&[pipe(2048, b"")]));
    // An end is opened for reading or writing, not both.
    assert!(decodes(&[pipe_end(3, 2, 1)]));
    assert!(!decodes(&[pipe_end(3, 2, 2)]));
    // A path kind holds a path; an eventfd its counter.
    let mut buf = image(&[pipe_end(3, 2, 0)]);
    buf[12] = FileKind::Regular as u8;
    assert!(Records::new(&buf).any(|i| i.is_err()));
    let efd = |semaphore| {
        Record::File(FileRecord {
            objref: 5,
            kind: FileKind::Eventfd,
            flags: 2,
            mode: 0o600,
            rdev: 0,
            pos: 0,
            data: FileData::Eventfd {
                count: 1,
                semaphore,
            },
        })
    };
    let mut buf = image(&[efd(true)]);
    // The semaphore flag is 0 or 1.
    buf[8 + FileRecord::COMMON_LEN + 8] = 2;
    assert!(Records::new(&buf).any(|i| i.is_err()));
    // Encoding refuses data of another kind.
    let mut wrong = vec![0u8; 256];
    let r = Record::File(FileRecord {
        objref: 5,
        kind: FileKind::Pipe,
        flags: 0,
        mode: 0o10600,
        rdev: 0,
        pos: 0,
        data: FileData::Path(b"/x"),
    });
    assert!(r.encode(&mut wrong).is_err());
}

fn tree_of(tasks: &'static [TreeTask]) -> Record<'static> {
    Record::Tree(TreeRecord {
        tasks: LeArray::Values(tasks),
    })
}

const fn tt(pid: i32, ppid: i32) -> TreeTask {
    TreeTask {
        pid,
        tgid: pid,
        ppid,
        pgid: 0,
        sid: 0,
        exit_signal: 17,
        flags: 0,
    }
}

#[test]
fn tree_rules() {
    // Parents before their children, the root first with any parent.
    static GOOD: [TreeTask; 4] = [tt(10, 1), tt(11, 10), tt(12, 11), tt(13, 10)];
    assert!(decodes(&[tree_of(&GOOD)]));
    static ORPHAN: [TreeTask; 2] = [tt(10, 1), tt(11, 99)];
    static CHILD_FIRST: [TreeTask; 2] = [tt(11, 10), tt(10, 1)];
    static TWICE: [TreeTask; 2] = [tt(10, 1), tt(10, 10)];
    static NO_PID: [TreeTask; 1] = [tt(0, 1)];
    static LEADER_LATER: [TreeTask; 2] = [
        tt(10, 1),
        TreeTask {
            pid: 11,
            tgid: 12,
            ppid: 10,
            pgid: 0,
            sid: 0,
            exit_signal: 0,
            flags: 0,
        },
    ];
    for bad in [
        &ORPHAN[..],
        &CHILD_FIRST,
        &TWICE,
        &NO_PID,
        &LEADER_LATER,
        &[],
    ] {
        assert!(!decodes(&[tree_of(bad)]), "{bad:?}");
    }
    // An exit signal beyond 64, or one for a thread.
    let mut buf = image(&[tree_of(&GOOD)]);
    buf[8 + TreeRecord::PREFIX + 20] = 65;
    assert!(Records::new(&buf).any(|i| i.is_err()));

    // One tree, before the tasks, listing as many tasks as follow.
    let task_of = |pid| {
        Record::Task(TaskRecord {
            pid,
            tgid: pid,
            ppid: 1,
            cred_ref: 1,
            comm: b"t",
            ..Default::default()
        })
    };
    let mut two = vec![header(), tree_of(&GOOD[..2]), cred(1)];
    for pid in [10, 11] {
        two.push(task_of(pid));
        two.extend(rest_of_task());
    }
    two.push(Record::Tail(Tail));
    assert_eq!(check(&image(&two)).map(|_| ()), Ok(()));
    let mut one = two.clone();
    one.drain(2 + 1 + 5..2 + 1 + 10);
    assert_eq!(
        check(&image(&one)),
        Err(FormatError::Order("fewer tasks than the tree lists"))
    );
    let mut three = two.clone();
    three[1] = tree_of(&GOOD[..1]);
    assert_eq!(
        check(&image(&three)),
        Err(FormatError::Order("more tasks than the tree lists"))
    );
    let mut none = two.clone();
    none.remove(1);
    assert_eq!(
        check(&image(&none)),
        Err(FormatError::Order("task record before the tree"))
    );
    let mut late = two.clone();
    late.insert(4, tree_of(&GOOD[..2]));
    assert_eq!(
        check(&image(&late)),
        Err(FormatError::Order("tree record not before the tasks"))
    );
}

#[test]
fn threads_in_tree_and_stream() {
    let thread = |pid, tgid, ppid| TreeTask {
        pid,
        tgid,
        ppid,
        pgid: 0,
        sid: 0,
        exit_signal: if pid == tgid { 17 } else { 0 },
        flags: 0,
    };
    let tree = |t: &[TreeTask]| tree_of(Box::leak(t.to_vec().into_boxed_slice()));
    // A thread follows its leader, with the leader's parent, group and
    // session; its children's parent is the group.
    static GOOD: [TreeTask; 3] = [tt(10, 1), tt(12, 10), tt(11, 10)];
    let mut good = GOOD;
    good[2] = thread(11, 10, 1);
    assert!(decodes(&[tree(&good)]));
    for bad in [
        // Its leader after it, or not a leader.
        [tt(10, 1), thread(11, 12, 1), tt(12, 10)],
        [tt(10, 1), thread(11, 10, 1), thread(12, 11, 1)],
        // Another parent than its leader's.
        [tt(10, 1), tt(12, 10), thread(11, 10, 12)],
        // A process whose parent is a thread, not a group.
        [tt(10, 1), thread(11, 10, 1), tt(12, 11)],
    ] {
        assert!(!decodes(&[tree(&bad)]), "{bad:?}");
    }
    let mut other_group = good;
    other_group[2].pgid = 10;
    assert!(!decodes(&[tree(&other_group)]));
    let mut signalling = good;
    signalling[2].exit_signal = 17;
    assert!(!decodes(&[tree(&signalling)]));

    // A thread has its task, cpu and signals records; the rest is its
    // leader's.
    let task_of = |pid, tgid| {
        Record::Task(TaskRecord {
            pid,
            tgid,
            ppid: 1,
            cred_ref: 1,
            comm: b"t",
            ..Default::default()
        })
    };
    let two = [thread(10, 10, 1), thread(11, 10, 1)];
    let mut v = vec![header(), tree(&two), cred(1), task_of(10, 10)];
    v.extend(rest_of_task());
    v.extend([task_of(11, 10), common::cpu(), common::signals()]);
    v.push(Record::Tail(Tail));
    assert_eq!(check(&image(&v)).map(|_| ()), Ok(()));
    let mut with_fs = v.clone();
    with_fs.insert(with_fs.len() - 1, common::root_fs());
    assert_eq!(
        check(&image(&with_fs)),
        Err(FormatError::Order(
            "record of a process in a thread that shares it"
        ))
    );
    let mut no_signals = v.clone();
    no_signals.remove(no_signals.len() - 2);
    assert_eq!(
        check(&image(&no_signals)),
        Err(FormatError::Order("image ends in the middle of a task"))
    );
}

#[test]
fn zombies() {
    let zombie = |pid, tgid, status| {
        Record::Task(TaskRecord {
            pid,
            tgid,
            ppid: 10,
            cred_ref: 1,
            comm: b"z",
            flags: TaskRecord::ZOMBIE,
            exit_status: status,
            ..Default::default()
        })
    };
    static TWO: [TreeTask; 2] = [tt(10, 1), tt(11, 10)];
    let with = |z: Record<'static>, after: &[Record<'static>]| {
        let mut v = vec![header(), tree_of(&TWO), cred(1), task_of_pid(10)];
        v.extend(rest_of_task());
        v.push(z);
        v.extend_from_slice(after);
        v.push(Record::Tail(Tail));
        check(&image(&v)).map(|_| ())
    };
    // A zombie is its task record alone, with a status wait() reports.
    for status in [0, 7 << 8, 9, 0x80 | 6, 64] {
        assert_eq!(with(zombie(11, 11, status), &[]), Ok(()), "{status:#x}");
    }
    assert_eq!(
        with(zombie(11, 11, 7 << 8), &[common::cpu()]),
        Err(FormatError::Order("record of a live task in a zombie"))
    );
    for (pid, tgid, status) in [(11, 11, 0x7f), (11, 11, 65), (11, 11, 0x17f), (11, 10, 0)] {
        assert!(
            with(zombie(pid, tgid, status), &[]).is_err(),
            "{pid} {status:#x}"
        );
    }
    // A live task has no exit status.
    let mut live = task_of_pid(11);
    if let Record::Task(t) = &mut live {
        t.exit_status = 7 << 8;
    }
    assert!(with(live, &rest_of_task()).is_err());
}

fn task_of_pid(pid: i32) -> Record<'static> {
    Record::Task(TaskRecord {
        pid,
        tgid: pid,
        ppid: 1,
        cred_ref: 1,
        comm: b"t",
        ..Default::default()
    })
}

#[test]
fn unlinked_files() {
    let data: &'static [u8] = Box::leak(vec![0x5au8; 1 << 20].into_boxed_slice());
    let inode = |dir: &'static [u8], data: &'static [u8]| {
        Record::Unlinked(UnlinkedRecord {
            objref: 6,
            mode: 0o100600,
            dir,
            size: data.len() as u64,
            data,
        })
    };
    let file = |objref, inode, flags| {
        Record::File(FileRecord {
            objref,
            kind: FileKind::Unlinked,
            flags,
            mode: 0o100600,
            rdev: 0,
            pos: 4096,
            data: FileData::Unlinked { inode },
        })
    };
    let recs = [inode(b"/tmp", data), file(7, 6, 0o100002), file(8, 6, 0)];
    let buf = image(&recs);
    let back: Vec<_> = Records::new(&buf).map(|i| i.unwrap().record).collect();
    assert_eq!(back, recs);
    assert!(decodes(&[inode(b"/", b"")]));
    // A relative directory, one with a NUL, or too much data.
    assert!(!decodes(&[inode(b"tmp", b"x")]));
    assert!(!decodes(&[inode(b"/t\0mp", b"x")]));
    let mut buf = image(&[inode(b"/tmp", b"abc")]);
    // The high bytes of the length of the data.
    buf[8 + 16 + 3] = 0x01;
    assert!(Records::new(&buf).any(|i| i.is_err()));
    let big: &'static [u8] = Box::leak(vec![0u8; MAX_UNLINKED + 1].into_boxed_slice());
    let mut out = vec![0u8; MAX_UNLINKED + 4096];
    assert!(inode(b"/tmp", big).encode(&mut out).is_err());
    // It is a regular file, not a directory (0o040600).
    let mut buf = image(&[inode(b"/tmp", b"abc")]);
    buf[8 + 5] = 0x41;
    assert!(Records::new(&buf).any(|i| i.is_err()));
    // Its files name it, once it is defined, as an unlinked file.
    let mut s = StreamCheck::new();
    let mut o = ObjMap::default();
    for r in [header(), common::tree(), cred(1), task(1)] {
        s.next(&r, &mut o).unwrap();
    }
    assert_eq!(
        s.next(&file(7, 6, 2), &mut o),
        Err(FormatError::MissingObjref(6))
    );
    s.next(&inode(b"/tmp", b"abc"), &mut o).unwrap();
    s.next(&file(7, 6, 2), &mut o).unwrap();
    assert_eq!(
        s.next(&file(8, 7, 2), &mut o),
        Err(FormatError::WrongObjKind(7))
    );
}

#[test]
fn fifos() {
    let pipe = |fifo: &'static [u8]| {
        Record::Pipe(PipeRecord {
            objref: 2,
            size: 65536,
            data: b"queued",
            fifo,
        })
    };
    let file = |flags| {
        Record::File(FileRecord {
            objref: 3,
            kind: FileKind::Fifo,
            flags,
            mode: 0o10644,
            rdev: 0,
            pos: 0,
            data: FileData::Pipe { pipe: 2 },
        })
    };
    let recs = [pipe(b"/tmp/f"), file(0), file(1), file(2)];
    let buf = image(&recs);
    let back: Vec<_> = Records::new(&buf).map(|i| i.unwrap().record).collect();
    assert_eq!(back, recs);
    // A FIFO may be open for reading and writing, not with access mode 3;
    // its path is absolute.
    assert!(!decodes(&[file(3)]));
    assert!(!decodes(&[pipe(b"tmp/f")]));
    assert!(!decodes(&[pipe(b"/tmp/\0f")]));
}

fn event_file(objref: i32, kind: FileKind, data: FileData<'static>) -> Record<'static> {
    Record::File(FileRecord {
        objref,
        kind,
        flags: 0o4002,
        mode: 0o600,
        rdev: 0,
        pos: 0,
        data,
    })
}

const TIMER: Timerfd = Timerfd {
    clock: 0,
    flags: Timerfd::ABSTIME | Timerfd::CANCEL_ON_SET,
    value: 1_800_000_000_000_000_000,
    interval: 50_000_000,
    ticks: 3,
};

const WATCHES: [EpollWatch; 2] = [
    EpollWatch {
        objref: 3,
        fd: 7,
        events: 0x8000_0019,
        data: u64::MAX,
    },
    EpollWatch {
        objref: 4,
        fd: 1 << 20,
        events: 0x1c,
        data: 0,
    },
];

#[test]
fn event_files_round_trip() {
    let recs = [
        event_file(3, FileKind::Signalfd, FileData::Signalfd { mask: 0xa00 }),
        event_file(4, FileKind::Timerfd, FileData::Timerfd(TIMER)),
        event_file(
            5,
            FileKind::Epoll,
            FileData::Epoll {
                watches: LeArray::Values(&WATCHES),
            },
        ),
    ];
    let buf = image(&recs);
    let back: Vec<_> = Records::new(&buf).map(|i| i.unwrap().record).collect();
    assert_eq!(back, recs);
    assert!(TIMER.is_realtime_expiry());
    let monotonic = Timerfd { clock: 1, ..TIMER };
    assert!(!monotonic.is_realtime_expiry());
}

#[test]
fn event_file_rules() {
    let timer = |t| event_file(4, FileKind::Timerfd, FileData::Timerfd(t));
    // Only the clocks of timerfd_create(), the flags of timerfd_settime(),
    // and times a timespec holds.
    for clock in [0, 1, 7, 8, 9] {
        assert!(decodes(&[timer(Timerfd { clock, ..TIMER })]));
    }
    for clock in [2, 3, 4, 5, 6, 10, 11, u32::MAX] {
        assert!(!decodes(&[timer(Timerfd { clock, ..TIMER })]));
    }
    assert!(!decodes(&[timer(Timerfd { flags: 4, ..TIMER })]));
    assert!(!decodes(&[timer(Timerfd {
        value: 1 << 63,
        ..TIMER
    })]));
    assert!(!decodes(&[timer(Timerfd {
        interval: u64::MAX,
        ..TIMER
    })]));
    // A watch names a file defined before it, by a positive objref, under
    // a descriptor that is not negative, with its reserved word zero.
    let epoll = |watches: &'static [EpollWatch]| {
        event_file(
            5,
            FileKind::Epoll,
            FileData::Epoll {
                watches: LeArray::Values(watches),
            },
        )
    };
    static BAD_FD: [EpollWatch; 1] = [EpollWatch {
        fd: -1,
        ..WATCHES[0]
    }];
    static BAD_REF: [EpollWatch; 1] = [EpollWatch {
        objref: 0,
        ..WATCHES[0]
    }];
    assert!(decodes(&[epoll(&WATCHES)]));
    assert!(!decodes(&[epoll(&BAD_FD)]));
    assert!(!decodes(&[epoll(&BAD_REF)]));
    let mut buf = image(&[epoll(&WATCHES)]);
    buf[8 + FileRecord::COMMON_LEN + 8 + 12] = 1;
    assert!(Records::new(&buf).any(|i| i.is_err()));
    // The count matches the watches that follow.
    let mut buf = image(&[epoll(&WATCHES)]);
    buf[8 + FileRecord::COMMON_LEN] = 3;
    assert!(Records::new(&buf).any(|i| i.is_err()));
    // Anonymous inodes have no file type.
    let mut buf = image(&[event_file(
        3,
        FileKind::Signalfd,
        FileData::Signalfd { mask: 1 },
    )]);
    buf[8 + 12 + 1] = 0x81;
    assert!(Records::new(&buf).any(|i| i.is_err()));

    let mut s = StreamCheck::new();
    let mut o = ObjMap::default();
    for r in [
        header(),
        common::tree(),
        cred(1),
        task(1),
        common::cpu(),
        common::signals(),
        fs(),
    ] {
        s.next(&r, &mut o).unwrap();
    }
    // Watched files come first; a watch names a file, not a cred.
    assert_eq!(
        s.next(&epoll(&WATCHES), &mut o),
        Err(FormatError::MissingObjref(3))
    );
    s.next(&timer(TIMER), &mut o).unwrap();
    s.next(
        &event_file(3, FileKind::Signalfd, FileData::Signalfd { mask: 2 }),
        &mut o,
    )
    .unwrap();
    s.next(&epoll(&WATCHES), &mut o).unwrap();
    static ON_CRED: [EpollWatch; 1] = [EpollWatch {
        objref: 1,
        ..WATCHES[0]
    }];
    assert_eq!(
        s.next(&epoll(&ON_CRED), &mut o),
        Err(FormatError::WrongObjKind(1))
    );
}

fn lock(objref: i32, kind: LockKind, start: u64, end: u64) -> Record<'static> {
    Record::Lock(LockRecord {
        objref,
        kind,
        write: true,
        start,
        end,
    })
}

#[test]
fn locks() {
    let recs = [
        lock(3, LockKind::Flock, 0, LOCK_TO_END),
        lock(3, LockKind::Posix, 200, 299),
        lock(3, LockKind::Posix, 1000, LOCK_TO_END),
    ];
    let buf = image(&recs);
    let back: Vec<_> = Records::new(&buf).map(|i| i.unwrap().record).collect();
    assert_eq!(back, recs);
    // A flock() lock covers the whole file; a POSIX lock a range that
    // ends at or before OFFSET_MAX.
    assert!(!decodes(&[lock(3, LockKind::Flock, 1, LOCK_TO_END)]));
    assert!(!decodes(&[lock(3, LockKind::Flock, 0, 99)]));
    assert!(!decodes(&[lock(3, LockKind::Posix, 100, 99)]));
    assert!(!decodes(&[lock(3, LockKind::Posix, 0, LOCK_TO_END + 1)]));
    let mut buf = image(&[lock(3, LockKind::Posix, 0, 9)]);
    buf[8 + 4] = 3;
    assert!(Records::new(&buf).any(|i| i.is_err()));
    let mut buf = image(&[lock(3, LockKind::Posix, 0, 9)]);
    buf[8 + 8] = 2;
    assert!(Records::new(&buf).any(|i| i.is_err()));

    // After the descriptors, naming a file; before the mm.
    let mut s = StreamCheck::new();
    let mut o = ObjMap::default();
    let file = Record::File(FileRecord {
        objref: 3,
        kind: FileKind::Regular,
        flags: 2,
        mode: 0o100600,
        rdev: 0,
        pos: 0,
        data: FileData::Path(b"/tmp/x"),
    });
    let fd = Record::Fd(FdRecord {
        fd: 4,
        objref: 3,
        cloexec: false,
    });
    for r in [
        header(),
        common::tree(),
        cred(1),
        task(1),
        common::cpu(),
        common::signals(),
        fs(),
        file,
        fd,
    ] {
        s.next(&r, &mut o).unwrap();
    }
    assert_eq!(
        s.next(&lock(1, LockKind::Flock, 0, LOCK_TO_END), &mut o),
        Err(FormatError::WrongObjKind(1))
    );
    s.next(&lock(3, LockKind::Posix, 0, 9), &mut o).unwrap();
    s.next(&lock(3, LockKind::Flock, 0, LOCK_TO_END), &mut o)
        .unwrap();
    assert_eq!(
        s.next(&fd, &mut o),
        Err(FormatError::Order("fd record out of place"))
    );
}

fn shmem(memfd: bool, seals: u32, name: &'static [u8]) -> Record<'static> {
    Record::Shmem(ShmemRecord {
        objref: 2,
        memfd,
        seals,
        mode: 0o100777,
        name,
        size: 6,
        data: b"shared",
    })
}

#[test]
fn shared_memory() {
    let recs = [
        shmem(true, 0x6, b"ckpt-shm"),
        shmem(false, 1, b""),
        Record::File(FileRecord {
            objref: 3,
            kind: FileKind::Shmem,
            flags: 0o100002,
            mode: 0o100777,
            rdev: 0,
            pos: 0,
            data: FileData::Shmem { shmem: 2 },
        }),
    ];
    let buf = image(&recs);
    let back: Vec<_> = Records::new(&buf).map(|i| i.unwrap().record).collect();
    assert_eq!(back, recs);
    // Shared anonymous memory has no name, and only the seal that forbids
    // more; a memfd's seals are those of fcntl(), its name a file name.
    assert!(!decodes(&[shmem(false, 1, b"x")]));
    assert!(!decodes(&[shmem(false, 0, b"")]));
    assert!(!decodes(&[shmem(true, 0x40, b"x")]));
    assert!(!decodes(&[shmem(true, 1, b"a/b")]));
    assert!(!decodes(&[shmem(true, 1, b"a\0b")]));
    let long = [b'n'; MAX_MEMFD_NAME + 1];
    let mut out = vec![0u8; 4096];
    let r = Record::Shmem(ShmemRecord {
        objref: 2,
        memfd: true,
        seals: 1,
        mode: 0o100777,
        name: &long,
        size: 0,
        data: b"",
    });
    assert!(r.encode(&mut out).is_err());
    let mut buf = image(&[shmem(true, 1, b"x")]);
    // Kind 2 does not exist.
    buf[8 + 4] = 2;
    assert!(Records::new(&buf).any(|i| i.is_err()));

    // A file on it names it, after it.
    let mut s = StreamCheck::new();
    let mut o = ObjMap::default();
    for r in [header(), common::tree(), cred(1)] {
        s.next(&r, &mut o).unwrap();
    }
    assert_eq!(s.next(&recs[2], &mut o), Err(FormatError::MissingObjref(2)));
    s.next(&recs[0], &mut o).unwrap();
    s.next(&recs[2], &mut o).unwrap();
}

/// A stream check that accepted `recs`.
fn stream_after(recs: &[Record<'_>]) -> (StreamCheck, ObjMap) {
    let mut s = StreamCheck::new();
    let mut o = ObjMap::default();
    for r in recs {
        s.next(r, &mut o).unwrap();
    }
    (s, o)
}

fn posix_timer(id: i32, clock: i32, notify: u32, flags: u32) -> TimerRecord {
    TimerRecord {
        kind: Some(TimerKind::Posix),
        id,
        clock,
        notify,
        signo: 10,
        flags,
        value: 0x77,
        expiry: 1_000_000,
        interval: 50_000_000,
        ..Default::default()
    }
}

#[test]
fn timers() {
    let itimer = |kind| TimerRecord {
        kind: Some(kind),
        expiry: 3,
        interval: 4,
        ..Default::default()
    };
    let recs = [
        itimer(TimerKind::Virtual),
        itimer(TimerKind::Prof),
        posix_timer(0, 1, 0, 0),
        posix_timer(7, 0, 1, TimerRecord::ABSTIME | TimerRecord::PENDING),
        TimerRecord {
            tid: 40,
            pending_overrun: 2,
            ..posix_timer(8, 2, 4, TimerRecord::PENDING)
        },
    ]
    .map(Record::Timer);
    let buf = image(&recs);
    let back: Vec<_> = Records::new(&buf).map(|i| i.unwrap().record).collect();
    assert_eq!(back, recs);
    let bad = |t: TimerRecord| !decodes(&[Record::Timer(t)]);
    // An interval timer is only its times.
    assert!(bad(TimerRecord {
        signo: 10,
        ..itimer(TimerKind::Prof)
    }));
    // Ids, clocks, notifications, signals and flags that timer_create()
    // and timer_settime() could not have made.
    assert!(bad(posix_timer(-1, 1, 0, 0)));
    assert!(bad(posix_timer(1, 3, 0, 0)));
    assert!(bad(posix_timer(1, -6, 0, 0)));
    assert!(bad(posix_timer(1, 1, 3, 0)));
    assert!(bad(posix_timer(1, 1, 4, 0)));
    assert!(bad(posix_timer(1, 1, 0, 4)));
    assert!(bad(posix_timer(1, 1, 0, TimerRecord::ABSTIME)));
    assert!(bad(TimerRecord {
        signo: 65,
        ..posix_timer(1, 1, 0, 0)
    }));
    assert!(bad(TimerRecord {
        pending_overrun: 1,
        ..posix_timer(1, 1, 0, 0)
    }));
    assert!(bad(TimerRecord {
        expiry: u64::MAX,
        ..posix_timer(1, 1, 0, 0)
    }));
    let mut buf = image(&[Record::Timer(posix_timer(1, 1, 0, 0))]);
    buf[8 + 36] = 1;
    assert!(Records::new(&buf).any(|i| i.is_err()));

    // After the signals of a process, before its fs.
    let (mut s, mut o) = stream_after(&[
        header(),
        common::tree(),
        cred(1),
        task(1),
        common::cpu(),
        common::signals(),
        recs[0],
        recs[2],
        fs(),
    ]);
    assert_eq!(
        s.next(&recs[3], &mut o),
        Err(FormatError::Order(
            "timer record not after the signals of a process"
        ))
    );
}

#[test]
fn contents_beyond_the_record() {
    let head: &'static [u8] = Box::leak(vec![0x33u8; MAX_UNLINKED].into_boxed_slice());
    let big = MAX_UNLINKED as u64 + 10;
    let shm = |size| {
        Record::Shmem(ShmemRecord {
            objref: 2,
            memfd: true,
            seals: 0,
            mode: 0o100600,
            name: b"big",
            size,
            data: head,
        })
    };
    let more = |objref, offset, data: &'static [u8]| {
        Record::Contents(ContentsRecord {
            objref,
            offset,
            data,
        })
    };
    let m = MAX_UNLINKED as u64;
    let recs = [shm(big), more(2, m, b"01234"), more(2, m + 5, b"56789")];
    let buf = image(&recs);
    let back: Vec<_> = Records::new(&buf).map(|i| i.unwrap().record).collect();
    assert_eq!(back, recs);
    // The head is all of the first MAX_UNLINKED bytes, and no more.
    let mut out = vec![0u8; MAX_UNLINKED + 4096];
    assert!(shm(m - 1).encode(&mut out).is_err());
    assert!(more(2, m, b"").encode(&mut out).is_err());

    // Right after their object, in order, up to its size, and all of it.
    let start = || stream_after(&[header(), common::tree(), cred(1)]);
    let (mut s, mut o) = start();
    for r in &recs {
        s.next(r, &mut o).unwrap();
    }
    assert_eq!(
        s.next(&more(2, m + 10, b"x"), &mut o),
        Err(FormatError::Order("contents record not after its object"))
    );
    let (mut s, mut o) = start();
    s.next(&shm(big), &mut o).unwrap();
    assert_eq!(
        s.next(&cred(3), &mut o),
        Err(FormatError::Order("contents record missing"))
    );
    for bad in [
        more(2, m + 1, b"0"),
        more(3, m, b"0"),
        more(2, m, b"0123456789a"),
    ] {
        let (mut s, mut o) = start();
        s.next(&shm(big), &mut o).unwrap();
        assert_eq!(
            s.next(&bad, &mut o),
            Err(FormatError::Order("contents record out of place"))
        );
    }
}

/// An event as read() gives it: wd, mask, cookie, padded name.
fn event(wd: i32, mask: u32, name: &[u8], len: u32) -> Vec<u8> {
    let mut b = vec![];
    b.extend(wd.to_le_bytes());
    b.extend(mask.to_le_bytes());
    b.extend(7u32.to_le_bytes());
    b.extend(len.to_le_bytes());
    b.extend(name);
    b.resize(16 + len as usize, 0);
    b
}

fn inotify(count: u32, watches: &[InotifyWatch<'_>], events: &[u8]) -> Vec<u8> {
    let mut bytes = vec![];
    for w in watches {
        let mut b = vec![0u8; w.encoded_len()];
        w.write(&mut b).unwrap();
        bytes.extend(b);
    }
    let watches: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    let events: &'static [u8] = Box::leak(events.to_vec().into_boxed_slice());
    image(&[Record::File(FileRecord {
        objref: 3,
        kind: FileKind::Inotify,
        flags: 0o4000,
        mode: 0,
        rdev: 0,
        pos: 0,
        data: FileData::Inotify {
            count,
            watches,
            events,
        },
    })])
}

#[test]
fn inotify_watches() {
    let w = |wd, mask, path| InotifyWatch { wd, mask, path };
    let good = [w(1, 0x300, &b"/tmp/d"[..]), w(4, 0x8000_0002, b"/tmp/f")];
    let mut evs = event(1, 0x100, b"after", 16);
    evs.extend(event(-1, 0x4000, b"", 0));
    let buf = inotify(2, &good, &evs);
    let back: Vec<_> = Records::new(&buf).map(|i| i.unwrap().record).collect();
    let Record::File(FileRecord {
        data:
            FileData::Inotify {
                count,
                watches,
                events,
            },
        ..
    }) = back[0]
    else {
        panic!("not an inotify file: {back:?}");
    };
    assert_eq!(count, 2);
    let got: Vec<_> = InotifyWatch::iter(watches).map(|w| w.unwrap()).collect();
    assert_eq!(got, good);
    let got: Vec<_> = InotifyEvent::iter(events).map(|e| e.unwrap()).collect();
    let want = [(1, 0x100, &b"after"[..]), (-1, 0x4000, b"")];
    assert_eq!(
        got.iter()
            .map(|e| (e.wd, e.mask, e.name))
            .collect::<Vec<_>>(),
        want
    );
    // Events as read() gives them: names padded to 16 with a NUL, known
    // masks, wds from -1.
    let bad_events = |ev: Vec<u8>| {
        let mut out = vec![0u8; 8192];
        Record::File(FileRecord {
            objref: 3,
            kind: FileKind::Inotify,
            flags: 0,
            mode: 0,
            rdev: 0,
            pos: 0,
            data: FileData::Inotify {
                count: 0,
                watches: &[],
                events: &ev,
            },
        })
        .encode(&mut out)
        .is_err()
    };
    assert!(!bad_events(evs.clone()));
    assert!(bad_events(event(1, 0x100, b"after", 8)));
    assert!(bad_events(event(1, 0x100, b"0123456789abcdef", 16)));
    assert!(bad_events(event(1, 0x100, b"a/b", 16)));
    assert!(bad_events(event(1, 0x100, b"", 16)));
    assert!(bad_events(event(1, 0, b"", 0)));
    assert!(bad_events(event(1, 0x0100_0000, b"", 0)));
    assert!(bad_events(event(-2, 0x100, b"", 0)));
    let mut padded = event(1, 0x100, b"ab", 16);
    padded[16 + 5] = b'x';
    assert!(bad_events(padded));
    // By increasing wd, masks of inotify_add_watch(), absolute paths, and
    // as many as the count says.
    // (Encoding checks them as decoding does.)
    let bad = |count, ws: &[InotifyWatch<'_>]| {
        let mut bytes = vec![];
        for w in ws {
            let mut b = vec![0u8; w.encoded_len()];
            w.write(&mut b).unwrap();
            bytes.extend(b);
        }
        let mut out = vec![0u8; 8192];
        Record::File(FileRecord {
            objref: 3,
            kind: FileKind::Inotify,
            flags: 0,
            mode: 0,
            rdev: 0,
            pos: 0,
            data: FileData::Inotify {
                count,
                watches: &bytes,
                events: &[],
            },
        })
        .encode(&mut out)
        .is_err()
    };
    assert!(!bad(2, &good));
    assert!(bad(2, &[w(4, 2, b"/a"), w(1, 2, b"/b")]));
    assert!(bad(2, &[w(1, 2, b"/a"), w(1, 2, b"/b")]));
    assert!(bad(1, &[w(0, 2, b"/a")]));
    assert!(bad(1, &[w(1, 0, b"/a")]));
    assert!(bad(1, &[w(1, 0x2000_0002, b"/a")]));
    assert!(bad(1, &[w(1, 2, b"a")]));
    assert!(bad(1, &[w(1, 2, b"/a\0")]));
    assert!(bad(3, &[w(1, 2, b"/a")]));
    let mut buf = inotify(1, &[w(1, 2, b"/abc")], &[]);
    // A path length past the record.
    buf[8 + 32 + 8 + 8] = 9;
    assert!(Records::new(&buf).any(|i| i.is_err()));
}

#[test]
fn shared_descriptor_tables_and_fs() {
    static TREE: [TreeTask; 3] = [tt(10, 1), tt(11, 10), tt(12, 10)];
    let objs = |files_ref, fs_ref| {
        Record::Objs(ObjsRecord {
            files_ref,
            fs_ref,
            mm_ref: 0,
        })
    };
    let [cpu, signals, fs, mm] = rest_of_task();
    // 10 and 11 share a descriptor table, 10 and 12 an fs; the first
    // defines each, with its records.
    let tasks = |t11: &[Record<'static>], t12: &[Record<'static>]| {
        let mut v = vec![header(), tree_of(&TREE), cred(1)];
        v.extend([task_of_pid(10), cpu, signals, objs(2, 3), fs, mm]);
        v.extend([task_of_pid(11), cpu, signals]);
        v.extend_from_slice(t11);
        v.extend([task_of_pid(12), cpu, signals]);
        v.extend_from_slice(t12);
        v.push(Record::Tail(Tail));
        check(&image(&v)).map(|_| ())
    };
    assert_eq!(tasks(&[objs(2, 0), fs, mm], &[objs(0, 3), mm]), Ok(()));
    // A process that shares them has no records of them.
    assert_eq!(
        tasks(&[objs(2, 0), fs, mm], &[objs(0, 3), fs, mm]),
        Err(FormatError::Order(
            "record of what the process shares with another"
        ))
    );
    // Of the right kind, after the timers, once.
    assert_eq!(
        tasks(&[objs(3, 0), fs, mm], &[objs(0, 3), mm]),
        Err(FormatError::WrongObjKind(3))
    );
    assert_eq!(
        tasks(&[objs(1, 0), fs, mm], &[objs(0, 3), mm]),
        Err(FormatError::WrongObjKind(1))
    );
    assert_eq!(
        tasks(&[fs, objs(2, 0), mm], &[objs(0, 3), mm]),
        Err(FormatError::Order(
            "objs record not after the timers of a process"
        ))
    );
    assert_eq!(
        tasks(&[objs(2, 0), objs(2, 0), fs, mm], &[objs(0, 3), mm]),
        Err(FormatError::Order(
            "objs record not after the timers of a process"
        ))
    );
    // A new one has its records.
    assert_eq!(
        tasks(&[objs(2, 0), fs, mm], &[objs(0, 4), mm]),
        Err(FormatError::Order("mm record not after its task"))
    );
    assert_eq!(
        tasks(&[objs(2, 4), mm], &[objs(0, 3), mm]),
        Err(FormatError::Order("mm record not after its task"))
    );
    // Shared or not, and nothing else.
    for (f, s) in [(0, 0), (-1, 3), (2, -3)] {
        assert!(!decodes(&[objs(f, s)]), "{f} {s}");
    }
    let mut buf = image(&[objs(2, 3)]);
    buf[RECORD_HEADER_LEN + 12] = 1;
    assert!(Records::new(&buf).any(|i| i.is_err()));
}

#[test]
fn memory_shared_with_the_parent() {
    // 11 was made with clone(CLONE_VM) by 10, 12 by 11; 13 is a fork().
    let shares = |pid, ppid| TreeTask {
        flags: TreeTask::SHARES_MM,
        ..tt(pid, ppid)
    };
    static TREE: [TreeTask; 4] = [
        tt(10, 1),
        TreeTask {
            flags: TreeTask::SHARES_MM | TreeTask::VFORK,
            ..tt(11, 10)
        },
        TreeTask {
            flags: TreeTask::SHARES_MM,
            ..tt(12, 11)
        },
        tt(13, 10),
    ];
    assert!(decodes(&[tree_of(&TREE)]));
    let mm_of = |mm_ref| {
        Record::Objs(ObjsRecord {
            mm_ref,
            ..Default::default()
        })
    };
    let [cpu, signals, fs, mm] = rest_of_task();
    // The first names the mm and has its records; the others share it.
    let tasks = |t11: &[Record<'static>]| {
        let mut v = vec![header(), tree_of(&TREE), cred(1)];
        v.extend([task_of_pid(10), cpu, signals, mm_of(2), fs, mm]);
        v.extend([task_of_pid(11), cpu, signals]);
        v.extend_from_slice(t11);
        v.extend([task_of_pid(12), cpu, signals, mm_of(2), fs]);
        v.extend([task_of_pid(13), cpu, signals, fs, mm]);
        v.push(Record::Tail(Tail));
        check(&image(&v)).map(|_| ())
    };
    assert_eq!(tasks(&[mm_of(2), fs]), Ok(()));
    assert_eq!(
        tasks(&[mm_of(2), fs, mm]),
        Err(FormatError::Order(
            "record of what the process shares with another"
        ))
    );
    // A new one has its records.
    assert_eq!(
        tasks(&[mm_of(3), fs]),
        Err(FormatError::Order(
            "task record before the last task is complete"
        ))
    );
    // Only a process, and one its parent in the tree made.
    let thread = TreeTask {
        tgid: 10,
        exit_signal: 0,
        ..shares(11, 1)
    };
    let unknown = TreeTask {
        flags: 4,
        ..tt(11, 10)
    };
    for bad in [
        vec![shares(10, 1)],
        vec![tt(10, 1), thread],
        vec![tt(10, 1), unknown],
    ] {
        let bad = Box::leak(bad.into_boxed_slice());
        assert!(!decodes(&[tree_of(bad)]), "{bad:?}");
    }
    assert!(!decodes(&[mm_of(-2)]));
}

#[test]
fn nested_pid_namespaces() {
    // 10 unshares and makes 12, the init of its new namespace, and 13
    // there; 11 makes 14, the init of another with clone(CLONE_NEWPID),
    // which makes 15.
    static TREE: [TreeTask; 6] = [
        tt(10, 1),
        tt(11, 10),
        tt(12, 10),
        tt(13, 10),
        tt(14, 11),
        tt(15, 14),
    ];
    const U: u32 = TaskNs::UNSHARED;
    const N: u32 = TaskNs::NEWPID;
    let rec = |ns: &'static [TaskNs], pids: &'static [u32]| PidnsRecord {
        tasks: LeArray::Values(ns),
        pids: LeArray::Values(pids),
    };
    let tn = |depth, flags| TaskNs { depth, flags };
    let good_ns: &'static [TaskNs] = Box::leak(Box::new([
        tn(0, U),
        tn(0, 0),
        tn(1, 0),
        tn(1, 0),
        tn(1, N),
        tn(1, 0),
    ]));
    let good = rec(good_ns, &[1, 2, 1, 2]);
    let tree = TreeRecord {
        tasks: LeArray::Values(&TREE),
    };
    assert_eq!(good.check(&tree), Ok(()));
    assert_eq!(good.pids_of(3).collect::<Vec<_>>(), [2]);
    assert_eq!(good.pids_of(4).collect::<Vec<_>>(), [1]);
    assert_eq!(good.pids_of(1).count(), 0);
    // Round trip, and the stream rules: right after the tree, one entry
    // per task.
    let buf = image(&[Record::Pidns(good)]);
    let items: Vec<_> = Records::new(&buf).collect::<Result<_, _>>().unwrap();
    assert_eq!(items[0].record, Record::Pidns(good));
    let mut v = vec![header(), tree_of(&TREE), Record::Pidns(good), cred(1)];
    let stream = |v: &[Record<'static>]| {
        let mut s = StreamCheck::new();
        let mut objs = ObjMap::default();
        v.iter().try_for_each(|r| s.next(r, &mut objs))
    };
    assert_eq!(stream(&v), Ok(()));
    v.swap(2, 3);
    assert_eq!(
        stream(&v),
        Err(FormatError::Order("pidns record not right after the tree"))
    );
    let short = rec(&good_ns[..5], &[1, 2, 1]);
    assert_eq!(
        stream(&[header(), tree_of(&TREE), Record::Pidns(short)]),
        Err(FormatError::BadValue("pidns task count"))
    );
    // Where a task may be.
    let bad = FormatError::BadValue("pid namespaces of the tree");
    let variant = |i: usize, t: TaskNs, pids: &'static [u32]| {
        let mut ns = good_ns.to_vec();
        ns[i] = t;
        rec(Box::leak(ns.into_boxed_slice()), pids).check(&tree)
    };
    // Not the init of the namespace its parent unshared.
    assert_eq!(variant(0, tn(0, U), &[2, 2, 1, 2]), Err(bad));
    // Its parent unshared none.
    assert_eq!(variant(0, tn(0, 0), &[1, 2, 1, 2]), Err(bad));
    // The init of one made by clone(), not pid 1 there.
    assert_eq!(variant(0, tn(0, U), &[1, 2, 3, 2]), Err(bad));
    // Two levels below its parent; the root below the tree's namespace.
    assert_eq!(variant(5, tn(2, 0), &[1, 2, 1, 2, 3]), Err(bad));
    assert_eq!(variant(0, tn(1, U), &[4, 1, 2, 1, 2]), Err(bad));
    // Records that do not decode.
    for (ns, pids) in [
        (tn(MAX_NS_DEPTH + 1, 0), &[][..]),
        (tn(0, 4), &[]),
        (tn(1, 0), &[0]),
        (tn(1, 0), &[1 << 31]),
    ] {
        let ns: &'static [TaskNs] = Box::leak(Box::new([ns]));
        let pids: &'static [u32] = Box::leak(pids.to_vec().into_boxed_slice());
        assert!(!decodes(&[Record::Pidns(rec(ns, pids))]), "{ns:?} {pids:?}");
    }
    let mut buf = image(&[Record::Pidns(good)]);
    buf[RECORD_HEADER_LEN + 4] = 3;
    assert!(Records::new(&buf).any(|i| i.is_err()));
}
