// SPDX-License-Identifier: GPL-2.0

//! Memory records (mm, vma, pages): round-trips and stream rules.

mod common;

use ckpt_format::stream::{validate, ObjMap, Records};
use ckpt_format::*;

const PS: u32 = 4096;

fn enc(r: &Record<'_>) -> Vec<u8> {
    let mut buf = vec![0u8; 1 << 20];
    let n = r.encode(&mut buf).unwrap();
    buf.truncate(n);
    buf
}

fn header() -> Record<'static> {
    Record::Header(Header {
        version: FORMAT_VERSION,
        flags: 0,
        arch: Arch::X86_64,
        page_size: PS,
        ckpt_id: 1,
        time: 0,
        release: b"r",
        version_str: b"v",
        machine: b"m",
    })
}

fn task() -> Vec<u8> {
    let mut v = enc(&Record::Cred(CredRecord {
        objref: 1,
        ..Default::default()
    }));
    v.extend(enc(&Record::Task(TaskRecord {
        pid: 5,
        tgid: 5,
        ppid: 1,
        cred_ref: 1,
        comm: b"t",
        ..Default::default()
    })));
    v
}

/// What a task has between its CPU state and its files: signals and fs.
fn settings() -> Vec<u8> {
    let mut v = enc(&common::signals());
    v.extend(enc(&common::root_fs()));
    v
}

/// A task up to its files: credentials, task, CPU state, signals and fs.
fn body() -> Vec<u8> {
    let mut v = task();
    v.extend(enc(&common::cpu()));
    v.extend(settings());
    v
}

fn mm(auxv: &[u64]) -> Record<'_> {
    Record::Mm(MmRecord {
        layout: [
            0x400000, 0x401000, 0x402000, 0x403000, 0x404000, 0x405000, 0x7ff0, 1, 2, 3, 4,
        ],
        flags: 0x8d,
        def_flags: 0,
        exe_ref: 0,
        inherits: false,
        auxv: LeArray::Values(auxv),
    })
}

/// An area mapping the file of objref `file_ref`, or anonymous memory (0).
fn vma(start: u64, end: u64, file_ref: i32) -> Record<'static> {
    Record::Vma(VmaRecord {
        start,
        end,
        flags: vm::READ | vm::WRITE,
        pgoff: 0,
        kind: if file_ref == 0 {
            VmaKind::Anon
        } else {
            VmaKind::File
        },
        file_ref,
    })
}

/// A pages record built as the kernel writes it: head, addresses, data.
fn pages(addrs: &[u64], page_size: u32) -> Vec<u8> {
    let (hdr, prefix) = PagesRecord::head(addrs.len(), page_size).unwrap();
    let mut v = hdr.encode().to_vec();
    v.extend(prefix);
    for a in addrs {
        v.extend(a.to_le_bytes());
    }
    for (i, _) in addrs.iter().enumerate() {
        v.extend(std::iter::repeat(i as u8 + 1).take(page_size as usize));
    }
    v.extend(std::iter::repeat(0).take(hdr.padding()));
    v
}

fn image(parts: &[Vec<u8>]) -> Vec<u8> {
    let mut v = enc(&header());
    v.extend(enc(&common::tree()));
    for p in parts {
        v.extend(p);
    }
    v.extend(enc(&Record::Tail(Tail)));
    v
}

fn check(buf: &[u8]) -> Result<usize, FormatError> {
    validate(buf, &mut ObjMap::default(), |_| {}).map_err(|(_, e)| e)
}

#[test]
fn memory_records_round_trip() {
    let auxv = [6u64, 4096, 0, 0];
    for r in [mm(&auxv), vma(0x1000, 0x3000, 0), vma(0x1000, 0x2000, 4)] {
        let buf = enc(&r);
        let item = Records::new(&buf).next().unwrap().unwrap();
        assert_eq!(item.record, r);
        // One encoding: the decoded record encodes to the same bytes.
        assert_eq!(enc(&item.record), buf);
    }
    let buf = enc(&mm(&auxv));
    let Record::Mm(m) = Records::new(&buf).next().unwrap().unwrap().record else {
        panic!()
    };
    assert!(matches!(m.auxv, LeArray::Bytes(_)));
    assert_eq!(m.auxv.iter().collect::<Vec<_>>(), auxv);
    assert_eq!(buf.len(), 8 + MmRecord::MIN_LEN + 8 * auxv.len());
    let buf = pages(&[0x1000, 0x3000], PS);
    let item = Records::new(&buf).next().unwrap().unwrap();
    let Record::Pages(p) = item.record else {
        panic!()
    };
    let got: Vec<_> = p.pages().map(|(a, d)| (a, d[0], d.len())).collect();
    assert_eq!(got, [(0x1000, 1, 4096), (0x3000, 2, 4096)]);
    // A decoded pages record encodes to the same bytes.
    assert_eq!(enc(&item.record), buf);
}

#[test]
fn valid_memory_image() {
    let img = image(&[
        body(),
        enc(&mm(&[])),
        enc(&vma(0x10000, 0x20000, 0)),
        pages(&[0x10000, 0x11000], PS),
        pages(&[0x15000], PS),
        enc(&vma(0x20000, 0x21000, 0)),
    ]);
    assert_eq!(check(&img), Ok(img.len()));
}

#[test]
fn memory_order_rules() {
    let o = |s| Err(FormatError::Order(s));
    assert_eq!(
        check(&image(&[enc(&mm(&[]))])),
        o("mm record not after its task")
    );
    assert_eq!(
        check(&image(&[task(), enc(&vma(0x1000, 0x2000, 0))])),
        o("vma record not after an mm")
    );
    assert_eq!(
        check(&image(&[body(), enc(&mm(&[])), pages(&[0x1000], PS)])),
        o("pages record not after a vma")
    );
    assert_eq!(
        check(&image(&[body(), enc(&mm(&[])), enc(&mm(&[]))])),
        o("mm record not after its task")
    );
}

#[test]
fn vma_and_page_bounds() {
    let bad = |parts: &[Vec<u8>], what| {
        let mut v = vec![body(), enc(&mm(&[]))];
        v.extend_from_slice(parts);
        assert_eq!(
            check(&image(&v)),
            Err(FormatError::BadValue(what)),
            "{what}"
        );
    };
    // Overlapping and unaligned areas.
    bad(
        &[enc(&vma(0x2000, 0x4000, 0)), enc(&vma(0x3000, 0x5000, 0))],
        "vma range",
    );
    bad(&[enc(&vma(0x2100, 0x4000, 0))], "vma range");
    // Pages outside their area, repeated, or of another page size.
    bad(
        &[enc(&vma(0x2000, 0x4000, 0)), pages(&[0x4000], PS)],
        "page address",
    );
    bad(
        &[enc(&vma(0x2000, 0x4000, 0)), pages(&[0x1000], PS)],
        "page address",
    );
    bad(
        &[
            enc(&vma(0x2000, 0x4000, 0)),
            pages(&[0x3000], PS),
            pages(&[0x3000], PS),
        ],
        "page address",
    );
    bad(
        &[enc(&vma(0x0, 0x40000, 0)), pages(&[0x0], 8192)],
        "page size",
    );
}

#[test]
fn record_level_checks() {
    let one = |r: Vec<u8>| Records::new(&r).next().unwrap().map(|_| ());
    // Pages out of order inside one record.
    assert_eq!(
        one(pages(&[0x3000, 0x2000], PS)),
        Err(FormatError::BadValue("page address"))
    );
    assert_eq!(
        one(pages(&[0x3001], PS)),
        Err(FormatError::BadValue("page address"))
    );
    // A file area names its file, an anonymous one none.
    let mut v = enc(&vma(0x1000, 0x2000, 2));
    v[8 + 32] = VmaKind::Anon as u8;
    assert_eq!(one(v), Err(FormatError::BadValue("vma file")));
    for bad in [0, -2] {
        let mut v = enc(&vma(0x1000, 0x2000, 2));
        v[8 + 36..8 + 40].copy_from_slice(&i32::to_le_bytes(bad));
        assert_eq!(one(v), Err(FormatError::BadValue("vma file")), "{bad}");
    }
    assert_eq!(
        one(enc(&vma(0x2000, 0x2000, 0))),
        Err(FormatError::BadValue("vma range"))
    );
    // Mm layout pairs must be ordered.
    let mut m = enc(&mm(&[]));
    m[8..16].copy_from_slice(&0x500000u64.to_le_bytes());
    assert_eq!(one(m), Err(FormatError::BadValue("mm layout")));
    // Odd auxv length.
    let m = enc(&mm(&[0]));
    assert_eq!(one(m), Err(FormatError::BadValue("auxv length")));
    let long = [0u64; MAX_AUXV + 2];
    assert_eq!(
        mm(&long).encode(&mut [0u8; 2048]),
        Err(FormatError::BadValue("auxv length"))
    );
    // Count and size mismatch with the record length.
    let mut p = pages(&[0x1000], PS);
    p[8..12].copy_from_slice(&2u32.to_le_bytes());
    assert!(one(p).is_err());
    assert_eq!(PagesRecord::head(0, PS), Err(FormatError::NoSpace));
    assert_eq!(
        PagesRecord::head(MAX_PAGES_PER_RECORD + 1, PS),
        Err(FormatError::NoSpace)
    );
}

#[test]
fn truncated_memory_image() {
    let img = image(&[
        task(),
        enc(&mm(&[])),
        enc(&vma(0x1000, 0x3000, 0)),
        pages(&[0x1000, 0x2000], PS),
    ]);
    for cut in (0..img.len()).step_by(7) {
        assert!(check(&img[..cut]).is_err(), "cut at {cut}");
    }
}

#[test]
fn cpu_record_rules() {
    let mut regs = [0u64; 23];
    regs[3] = 0x1122_3344_5566_7788;
    let cpu = Record::Arch(ArchRecord::X86_64Cpu(CpuX86_64 { regs }));
    let buf = enc(&cpu);
    let item = Records::new(&buf).next().unwrap().unwrap();
    assert_eq!(item.record, cpu);
    if let Record::Arch(ArchRecord::X86_64Cpu(c)) = item.record {
        assert_eq!(c.get("r12"), Some(0x1122_3344_5566_7788));
        assert_eq!(c.get("nope"), None);
    }
    // After its task, before the mm.
    let ok = image(&[task(), enc(&cpu), settings(), enc(&mm(&[]))]);
    assert_eq!(check(&ok), Ok(ok.len()));
    assert_eq!(
        check(&image(&[body(), enc(&mm(&[])), enc(&cpu)])),
        Err(FormatError::Order("cpu record not right after its task"))
    );
    assert_eq!(
        check(&image(&[task(), enc(&cpu), enc(&cpu)])),
        Err(FormatError::Order("cpu records out of order"))
    );
    // A task needs its CPU state.
    assert_eq!(
        check(&image(&[task(), settings(), enc(&mm(&[]))])),
        Err(FormatError::Order("signals record out of place"))
    );
    // Only in an x86-64 image.
    let mut s390 = enc(&header());
    s390[24..28].copy_from_slice(&(Arch::S390x as u32).to_le_bytes());
    s390.extend(enc(&common::tree()));
    s390.extend(task());
    s390.extend(enc(&cpu));
    s390.extend(enc(&Record::Tail(Tail)));
    assert_eq!(
        check(&s390),
        Err(FormatError::BadValue("cpu record of another architecture"))
    );
}

#[test]
fn xstate_record_rules() {
    let mut area = vec![0u8; 1024];
    area[160] = 0xaa; // xmm0
    area[512] = 0x7; // XSTATE_BV: x87, SSE, AVX
    let x = Record::Arch(ArchRecord::X86Xstate(Xstate { area: &area }));
    let buf = enc(&x);
    let item = Records::new(&buf).next().unwrap().unwrap();
    let Record::Arch(ArchRecord::X86Xstate(got)) = item.record else {
        panic!()
    };
    assert_eq!(got.xfeatures(), 7);
    assert_eq!(got.xmm(0).unwrap()[0], 0xaa);
    assert_eq!(got.xmm(16), None);
    let cpu = enc(&Record::Arch(ArchRecord::X86_64Cpu(CpuX86_64 {
        regs: [0; 23],
    })));
    let ok = image(&[task(), cpu.clone(), buf.clone(), settings(), enc(&mm(&[]))]);
    assert_eq!(check(&ok), Ok(ok.len()));
    assert_eq!(
        check(&image(&[task(), buf.clone(), cpu.clone()])),
        Err(FormatError::Order("cpu records out of order"))
    );
    // A compacted area, a short one.
    area[520] = 1;
    let one = |r: Vec<u8>| Records::new(&r).next().unwrap().map(|_| ());
    assert_eq!(
        one(enc(&Record::Arch(ArchRecord::X86Xstate(Xstate {
            area: &area
        })))),
        Err(FormatError::BadValue("xstate format"))
    );
    let short = [0u8; 100];
    assert!(matches!(
        one(enc(&Record::Arch(ArchRecord::X86Xstate(Xstate {
            area: &short
        })))),
        Err(FormatError::BadLength { .. })
    ));
}

fn file(objref: i32, path: &'static [u8]) -> Record<'static> {
    Record::File(FileRecord {
        objref,
        kind: FileKind::Regular,
        flags: 0o2001,
        mode: 0o100644,
        rdev: 0,
        pos: 12345,
        data: FileData::Path(path),
    })
}

fn fd(fd: i32, objref: i32) -> Record<'static> {
    Record::Fd(FdRecord {
        fd,
        objref,
        cloexec: fd == 3,
    })
}

#[test]
fn file_records_round_trip_and_rules() {
    let null = Record::File(FileRecord {
        objref: 3,
        kind: FileKind::CharDevice,
        flags: 2,
        mode: 0o020666,
        rdev: MEM_CHAR_DEVICES[0],
        pos: 0,
        data: FileData::Path(b"/dev/null"),
    });
    for r in [file(2, b"/tmp/log"), null, fd(7, 2)] {
        let buf = enc(&r);
        assert_eq!(Records::new(&buf).next().unwrap().unwrap().record, r);
    }
    // Files before their descriptors, shared by two of them, before the mm.
    let ok = image(&[
        body(),
        enc(&file(2, b"/tmp/log")),
        enc(&fd(0, 2)),
        enc(&fd(3, 2)),
        enc(&null),
        enc(&fd(4, 3)),
        enc(&mm(&[])),
    ]);
    assert_eq!(check(&ok), Ok(ok.len()));
    let bad = |parts: &[Vec<u8>]| check(&image(parts));
    assert_eq!(
        bad(&[body(), enc(&fd(0, 2))]),
        Err(FormatError::MissingObjref(2))
    );
    assert_eq!(
        bad(&[body(), enc(&file(2, b"/a")), enc(&fd(4, 2)), enc(&fd(4, 2))]),
        Err(FormatError::Order("fd records not in increasing order"))
    );
    assert_eq!(
        bad(&[body(), enc(&fd(0, 1))]),
        Err(FormatError::WrongObjKind(1))
    );
    // A file record may come anywhere before its first user; a
    // descriptor may not follow the mm.
    let late = image(&[body(), enc(&mm(&[])), enc(&file(2, b"/a"))]);
    assert_eq!(check(&late), Ok(late.len()));
    assert_eq!(
        bad(&[body(), enc(&file(2, b"/a")), enc(&mm(&[])), enc(&fd(0, 2))]),
        Err(FormatError::Order("fd record out of place"))
    );
    // A character device must be one of the memory devices, with its type.
    for (mode, rdev) in [(0o020666, 0x101), (0o100666, MEM_CHAR_DEVICES[0])] {
        let mut r = null;
        if let Record::File(f) = &mut r {
            f.mode = mode;
            f.rdev = rdev;
        }
        let buf = enc(&r);
        assert!(Records::new(&buf).next().unwrap().is_err());
    }
    // Relative paths and negative positions are refused.
    for path in [&b"tmp/x"[..], b""] {
        let buf = enc(&file(2, path));
        assert!(Records::new(&buf).next().unwrap().is_err());
    }
}

#[test]
fn restart_block_rules() {
    let sleep = RestartBlock {
        kind: RestartKind::Nanosleep,
        clockid: 1,
        remaining_ns: 5_000_000_000,
        addr: 0x7fff_0000,
        rmtp_type: 2,
        futex_val: 0,
        futex_bitset: 0,
        futex_shared: false,
    };
    let futex = RestartBlock {
        kind: RestartKind::FutexWait,
        clockid: 0,
        addr: 0x7fff_1004,
        rmtp_type: 0,
        futex_val: 7,
        futex_bitset: !0,
        futex_shared: true,
        ..sleep
    };
    for rb in [sleep, futex] {
        let buf = enc(&Record::RestartBlock(rb));
        assert_eq!(
            Records::new(&buf).next().unwrap().unwrap().record,
            Record::RestartBlock(rb)
        );
    }
    let buf = enc(&Record::RestartBlock(sleep));
    let cpu = enc(&Record::Arch(ArchRecord::X86_64Cpu(CpuX86_64 {
        regs: [0; 23],
    })));
    let ok = image(&[task(), cpu.clone(), buf.clone(), settings(), enc(&mm(&[]))]);
    assert_eq!(check(&ok), Ok(ok.len()));
    assert_eq!(
        check(&image(&[task(), buf.clone()])),
        Err(FormatError::Order("restart block not after the cpu state"))
    );
    // Unknown kinds and clocks, futex fields in a sleep, a misaligned or
    // empty-bitset futex.
    for bad in [
        RestartBlock {
            clockid: 99,
            ..sleep
        },
        RestartBlock {
            rmtp_type: 3,
            ..sleep
        },
        RestartBlock {
            futex_val: 1,
            ..sleep
        },
        RestartBlock {
            clockid: 7,
            ..futex
        },
        RestartBlock {
            addr: 0x7fff_1002,
            ..futex
        },
        RestartBlock {
            futex_bitset: 0,
            ..futex
        },
    ] {
        let b = enc(&Record::RestartBlock(bad));
        assert!(Records::new(&b).next().unwrap().is_err(), "{bad:?}");
    }
    let mut b = buf.clone();
    b[8..12].copy_from_slice(&9u32.to_le_bytes());
    assert!(Records::new(&b).next().unwrap().is_err());
}

#[test]
fn signals_record_rules() {
    let mut rlimits = [[0u64; 2]; RLIM_NLIMITS];
    rlimits[7] = [123, 456];
    let mut actions = [[0u64; 4]; NSIG];
    actions[9] = [0x0040_1100, 0x0400_0000, 0x0040_1000, 1 << 14];
    // SIGUSR1 pending for the thread (sigqueue() value 77), SIGTERM for the
    // process.
    let mut pending = vec![0u8; 2 * SignalsRecord::PENDING_LEN];
    for (i, (sig, flags)) in [(10u32, 0u32), (15, 1)].into_iter().enumerate() {
        let e = &mut pending[i * SignalsRecord::PENDING_LEN..];
        e[..4].copy_from_slice(&sig.to_le_bytes());
        e[4..8].copy_from_slice(&flags.to_le_bytes());
        e[8..12].copy_from_slice(&sig.to_le_bytes());
        e[8 + 24] = 77;
    }
    let rec = SignalsRecord {
        blocked: 1 << 11,
        altstack: [0x7000_0000, 65536],
        altstack_flags: 0,
        umask: 0o027,
        rseq: 0x7fff_1000,
        rseq_len: 32,
        rseq_sig: 0x5305_3053,
        rlimits: LeArray::Values(&rlimits),
        actions: LeArray::Values(&actions),
        itimer_real: [1_500_000_000, 250_000_000],
        pending: &pending,
    };
    let buf = enc(&Record::Signals(rec));
    let item = Records::new(&buf).next().unwrap().unwrap();
    assert_eq!(item.record, Record::Signals(rec));
    assert_eq!(enc(&item.record), buf);
    let Record::Signals(got) = item.record else {
        unreachable!()
    };
    assert!(matches!(got.rlimits, LeArray::Bytes(_)));
    assert_eq!(got.rlimits.get(7), Some([123, 456]));
    assert_eq!(got.rlimits.get(RLIM_NLIMITS), None);
    assert_eq!(got.actions.get(9), Some(actions[9]));
    assert_eq!(got.actions.iter().collect::<Vec<_>>(), actions);
    // Encoding needs every limit and every action.
    for (r, what) in [
        (
            SignalsRecord {
                rlimits: LeArray::Values(&rlimits[1..]),
                ..rec
            },
            "resource limit count",
        ),
        (
            SignalsRecord {
                actions: LeArray::default(),
                ..rec
            },
            "signal action count",
        ),
    ] {
        let mut buf = vec![0u8; 8192];
        assert_eq!(
            Record::Signals(r).encode(&mut buf),
            Err(FormatError::BadValue(what))
        );
    }
    let p: Vec<_> = rec.pending_signals().collect();
    assert_eq!((p[0].signo, p[0].shared, p[0].info[24]), (10, false, 77));
    assert_eq!((p[1].signo, p[1].shared), (15, true));
    // After the cpu state, before the files.
    let cpu = enc(&Record::Arch(ArchRecord::X86_64Cpu(CpuX86_64 {
        regs: [0; 23],
    })));
    let ok = image(&[
        task(),
        cpu,
        buf.clone(),
        enc(&common::root_fs()),
        enc(&file(2, b"/a")),
        enc(&mm(&[])),
    ]);
    assert_eq!(check(&ok), Ok(ok.len()));
    assert_eq!(
        check(&image(&[task(), enc(&file(2, b"/a")), buf.clone()])),
        Err(FormatError::Order("signals record out of place"))
    );
    // A soft limit above the hard one, a handler for SIGKILL, a umask with
    // more than permission bits, and unknown altstack flags are refused.
    let mut bad = rlimits;
    bad[7][0] = 999;
    let mut kill = actions;
    kill[8][0] = 1;
    // Pending SIGKILL, a siginfo of another signal, unknown flags.
    let mut bad_pending = [pending.clone(), pending.clone(), pending.clone()];
    bad_pending[0][..4].copy_from_slice(&9u32.to_le_bytes());
    bad_pending[0][8..12].copy_from_slice(&9u32.to_le_bytes());
    bad_pending[1][8] = 11;
    bad_pending[2][4] = 2;
    for b in &bad_pending {
        let r = SignalsRecord { pending: b, ..rec };
        let b = enc(&Record::Signals(r));
        assert!(Records::new(&b).next().unwrap().is_err(), "{r:?}");
    }
    for r in [
        SignalsRecord {
            rlimits: LeArray::Values(&bad),
            ..rec
        },
        SignalsRecord {
            actions: LeArray::Values(&kill),
            ..rec
        },
        SignalsRecord {
            umask: 0o1777,
            ..rec
        },
        SignalsRecord {
            altstack_flags: 1,
            ..rec
        },
    ] {
        let b = enc(&Record::Signals(r));
        assert!(Records::new(&b).next().unwrap().is_err(), "{r:?}");
    }
}

#[test]
fn pages_head_decodes_like_the_record() {
    let buf = pages(&[0x1000, 0x3000], PS);
    let hdr = RecordHeader::decode(buf[..8].try_into().unwrap()).unwrap();
    let prefix: [u8; 8] = buf[8..16].try_into().unwrap();
    let n = PagesRecord::addrs_len(&prefix).unwrap();
    assert_eq!(n, 16);
    let head = PagesRecord::decode_head(&hdr, &buf[8..16 + n]).unwrap();
    assert!(!head.has_data());
    assert_eq!(head.addrs().collect::<Vec<_>>(), vec![0x1000, 0x3000]);
    assert_eq!(head.data_len(), 2 * PS as usize);
    let Record::Pages(full) = Records::new(&buf).next().unwrap().unwrap().record else {
        panic!("not a pages record");
    };
    assert!(full.has_data());
    assert_eq!(
        full.addrs().collect::<Vec<_>>(),
        head.addrs().collect::<Vec<_>>()
    );
    // A head that disagrees with the record length, or is cut, is refused.
    let mut short = hdr;
    short.len -= 8;
    assert!(PagesRecord::decode_head(&short, &buf[8..16 + n]).is_err());
    assert!(PagesRecord::decode_head(&hdr, &buf[8..16 + n - 8]).is_err());
    assert!(PagesRecord::addrs_len(&[0; 8]).is_err());
}

#[test]
fn mm_executable_is_a_file_objref() {
    let with_exe = |exe_ref| {
        let Record::Mm(m) = mm(&[]) else {
            unreachable!()
        };
        enc(&Record::Mm(MmRecord { exe_ref, ..m }))
    };
    let ok = image(&[body(), enc(&file(2, b"/bin/prog")), with_exe(2)]);
    assert_eq!(check(&ok), Ok(ok.len()));
    assert_eq!(
        check(&image(&[body(), with_exe(2)])),
        Err(FormatError::MissingObjref(2))
    );
    assert_eq!(
        check(&image(&[body(), with_exe(1)])),
        Err(FormatError::WrongObjKind(1))
    );
    let b = with_exe(-1);
    assert!(Records::new(&b).next().unwrap().is_err());
}

#[test]
fn vma_file_is_a_file_objref() {
    let ok = image(&[
        body(),
        enc(&file(2, b"/bin/prog")),
        enc(&mm(&[])),
        enc(&vma(0x1000, 0x2000, 2)),
        enc(&vma(0x2000, 0x3000, 0)),
        enc(&vma(0x3000, 0x4000, 2)),
    ]);
    assert_eq!(check(&ok), Ok(ok.len()));
    let bad = |file_ref| {
        check(&image(&[
            body(),
            enc(&mm(&[])),
            enc(&vma(0x1000, 0x2000, file_ref)),
        ]))
    };
    assert_eq!(bad(5), Err(FormatError::MissingObjref(5)));
    // Objref 1 is the task's credentials.
    assert_eq!(bad(1), Err(FormatError::WrongObjKind(1)));
    assert_eq!(VmaRecord::LEN, 40);
    assert_eq!(enc(&vma(0x1000, 0x2000, 2)).len(), 48);
}

#[test]
fn cow_records() {
    let run = |addr, pages| CowRun { addr, pages };
    let cow = |runs: &[CowRun]| {
        enc(&Record::Cow(CowRecord {
            runs: LeArray::Values(runs),
        }))
    };
    let inheriting = enc(&Record::Mm(MmRecord {
        inherits: true,
        ..match mm(&[]) {
            Record::Mm(m) => m,
            _ => unreachable!(),
        }
    }));
    let area = |c: Vec<u8>| {
        image(&[
            body(),
            inheriting.clone(),
            enc(&vma(0x10000, 0x20000, 0)),
            c,
            pages(&[0x11000], PS),
        ])
    };
    // Round trip.
    let buf = cow(&[run(0x10000, 1), run(0x12000, 3)]);
    let item = Records::new(&buf).next().unwrap().unwrap();
    assert_eq!(enc(&item.record), buf);
    // Right after an anonymous area of an mm that inherits, before its
    // pages; runs in it, increasing, disjoint.
    let img = area(cow(&[run(0x10000, 1), run(0x12000, 3)]));
    assert_eq!(check(&img), Ok(img.len()));
    let bad = Err(FormatError::BadValue("cow run"));
    assert_eq!(check(&area(cow(&[run(0x1f000, 2)]))), bad);
    assert_eq!(check(&area(cow(&[run(0xf000, 1)]))), bad);
    assert_eq!(check(&area(cow(&[run(0x12000, 1), run(0x11000, 1)]))), bad);
    assert_eq!(check(&area(cow(&[run(0x12000, 2), run(0x13000, 1)]))), bad);
    assert_eq!(check(&area(cow(&[run(0x12000, 0)]))), bad);
    assert_eq!(check(&area(cow(&[run(0x12001, 1)]))), bad);
    assert_eq!(check(&area(cow(&[run(0x12000, u64::MAX / 2)]))), bad);
    let order = Err(FormatError::Order(
        "cow record not right after a private vma of an mm that inherits",
    ));
    let c = cow(&[run(0x10000, 1)]);
    // Not when the mm does not say so, not after the pages, not twice, not
    // for the vDSO.
    let img = image(&[
        body(),
        enc(&mm(&[])),
        enc(&vma(0x10000, 0x20000, 0)),
        c.clone(),
    ]);
    assert_eq!(check(&img), order);
    let img = image(&[
        body(),
        inheriting.clone(),
        enc(&vma(0x10000, 0x20000, 0)),
        pages(&[0x11000], PS),
        c.clone(),
    ]);
    assert_eq!(check(&img), order);
    let img = image(&[
        body(),
        inheriting.clone(),
        enc(&vma(0x10000, 0x20000, 0)),
        c.clone(),
        c.clone(),
    ]);
    assert_eq!(check(&img), order);
    let vdso = enc(&Record::Vma(VmaRecord {
        start: 0x10000,
        end: 0x12000,
        flags: vm::READ | vm::EXEC,
        pgoff: 0,
        kind: VmaKind::Vdso,
        file_ref: 0,
    }));
    let img = image(&[body(), inheriting.clone(), vdso, c.clone()]);
    assert_eq!(check(&img), order);
    // A private file mapping may share its written pages.
    let file = enc(&file(4, b"/f"));
    let img = image(&[
        body(),
        file,
        inheriting.clone(),
        enc(&vma(0x10000, 0x20000, 4)),
        c,
    ]);
    assert_eq!(check(&img), Ok(img.len()));
    // An mm's inherits field is 0 or 1.
    let mut buf = inheriting.clone();
    buf[8 + 8 * 13 + 4] = 2;
    assert!(Records::new(&buf).any(|i| i.is_err()));
}
