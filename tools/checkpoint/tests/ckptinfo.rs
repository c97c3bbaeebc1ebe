// SPDX-License-Identifier: GPL-2.0

//! ckptinfo on images built with the format crate: text, JSON, exit status.

// The records every task has, shared with the format crate's tests.
#[path = "../../../rust/checkpoint/format/tests/common/mod.rs"]
mod common;

use ckpt_format::*;
use std::io::Write;
use std::process::{Command, Output, Stdio};

fn image(records: &[Record<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for r in records {
        let mut buf = vec![0u8; 1 << 16];
        let n = r.encode(&mut buf).unwrap();
        out.extend_from_slice(&buf[..n]);
    }
    out
}

fn header() -> Record<'static> {
    Record::Header(Header {
        version: FORMAT_VERSION,
        flags: 0,
        arch: Arch::X86_64,
        page_size: 4096,
        ckpt_id: 12,
        time: 1_800_000_000,
        release: b"6.12.117",
        version_str: b"#1 SMP",
        machine: b"x86_64",
    })
}

/// The image up to the end of its task record.
fn start() -> Vec<u8> {
    image(&[
        header(),
        common::tree(),
        Record::Cred(CredRecord {
            objref: 1,
            uids: [1000; 4],
            gids: [100; 4],
            groups: LeArray::Values(&[24, 27]),
            ..Default::default()
        }),
        Record::Task(TaskRecord {
            pid: 77,
            tgid: 77,
            ppid: 1,
            cred_ref: 1,
            comm: b"a \"q\" \\ nm",
            ..Default::default()
        }),
    ])
}

/// A valid image: a task with what every task has.
fn valid() -> Vec<u8> {
    let mut out = start();
    out.extend(image(&[
        common::cpu(),
        common::signals(),
        common::root_fs(),
        common::empty_mm(),
        Record::Tail(Tail),
    ]));
    out
}

fn ckptinfo(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ckptinfo"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn text_output_of_a_valid_image() {
    let img = valid();
    let out = ckptinfo(&[], &img);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("pid 77 tgid 77 ppid 1 cred 1"), "{text}");
    assert!(
        text.contains("uid 1000/1000/1000/1000 gid 100/100/100/100 groups 24,27"),
        "{text}"
    );
    assert!(text.contains(&format!("valid image: 9 records, {} bytes", img.len())));
}

#[test]
fn json_output_escapes_strings() {
    let out = ckptinfo(&["--json", "-"], &valid());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.starts_with("{\"valid\": true, \"length\": "), "{text}");
    assert!(text.contains("\"pid\": 77,"), "{text}");
    assert!(text.contains(r#""comm": "a \"q\" \\ nm""#), "{text}");
    assert!(text.contains("\"ckpt_id\": 12,"), "{text}");
    assert!(text.trim_end().ends_with("\"error\": null}"), "{text}");
}

/// A task with its cpu state, signals, a file, and memory: the records whose
/// output the kselftests look for.
fn full() -> Vec<u8> {
    let mut regs = [0u64; 23];
    regs[CpuX86_64::NAMES.iter().position(|n| *n == "cs").unwrap()] = 51;
    regs[3] = 0x1122_3344_5566_7788;
    let mut area = vec![0u8; Xstate::MIN_AREA];
    for (i, b) in area[160..160 + 256].iter_mut().enumerate() {
        *b = i as u8;
    }
    area[512] = 7;
    let mut pending = vec![0u8; 2 * SignalsRecord::PENDING_LEN];
    for (i, (sig, flags)) in [(12u32, 0u32), (34, 1)].into_iter().enumerate() {
        let e = &mut pending[i * SignalsRecord::PENDING_LEN..];
        e[..4].copy_from_slice(&sig.to_le_bytes());
        e[4..8].copy_from_slice(&flags.to_le_bytes());
        e[8..12].copy_from_slice(&sig.to_le_bytes());
    }
    let rlimits = [[1024u64, 4096]; RLIM_NLIMITS];
    let actions = [[0u64; 4]; NSIG];
    let mut out = start();
    let mut rest = vec![0u8; 1 << 16];
    let mut n = 0;
    for r in [
        CpuX86_64 { regs }.into_record(),
        Xstate { area: &area }.into_record(),
        RestartBlock {
            kind: RestartKind::FutexWait,
            clockid: 1,
            remaining_ns: 5_000_000_000,
            addr: 0x7fff_1004,
            rmtp_type: 0,
            futex_val: 7,
            futex_bitset: !0,
            futex_shared: false,
        }
        .into_record(),
        SignalsRecord {
            blocked: 0,
            altstack: [0, 0],
            altstack_flags: SS_DISABLE,
            umask: 0o22,
            rseq: 0,
            rseq_len: 0,
            rseq_sig: 0,
            rlimits: LeArray::Values(&rlimits),
            actions: LeArray::Values(&actions),
            itimer_real: [0, 0],
            pending: &pending,
        }
        .into_record(),
        FsRecord {
            root: b"/",
            cwd: b"/",
        }
        .into_record(),
        FileRecord {
            objref: 3,
            kind: FileKind::Regular,
            flags: 0,
            mode: 0o100755,
            rdev: 0,
            pos: 0,
            data: FileData::Path(b"/bin/prog"),
        }
        .into_record(),
        MmRecord {
            layout: [0; 11],
            flags: 0,
            def_flags: 0,
            exe_ref: 3,
            inherits: false,
            auxv: LeArray::Values(&[6, 4096]),
        }
        .into_record(),
        VmaRecord {
            start: 0x10000,
            end: 0x20000,
            flags: vm::READ | vm::WRITE,
            pgoff: 0,
            kind: VmaKind::Anon,
            file_ref: 0,
        }
        .into_record(),
        VmaRecord {
            start: 0x20000,
            end: 0x21000,
            flags: vm::READ | vm::EXEC,
            pgoff: 2,
            kind: VmaKind::File,
            file_ref: 3,
        }
        .into_record(),
        Record::Tail(Tail),
    ] {
        n += r.encode(&mut rest[n..]).unwrap();
    }
    out.extend_from_slice(&rest[..n]);
    out
}

#[test]
fn output_the_kselftests_look_for() {
    let out = ckptinfo(&["--json"], &full());
    let json = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{json}");
    for want in [
        r#""type": "vma", "offset": "#,
        r#""start": 65536, "end": 131072, "flags": 3, "prot": "rw-p", "kind": "anon", "pgoff": 0, "file": 0}"#,
        r#""start": 131072, "end": 135168, "flags": 5, "prot": "r-xp", "kind": "file", "pgoff": 2, "file": 3}"#,
        r#""r12": 1234605616436508552,"#,
        r#""cs": 51,"#,
        r#""type": "xstate""#,
        r#""xfeatures": 7, "xmm": ["000102030405060708090a0b0c0d0e0f", "101112131415161718191a1b1c1d1e1f", "#,
        r#""type": "restart_block""#,
        r#""kind": "futex_wait""#,
        r#""pending": [12, 34]"#,
        r#""exe_ref": 3, "auxv": [6, 4096], "inherits": 0}"#,
    ] {
        assert!(json.contains(want), "{want} not in {json}");
    }
    let out = ckptinfo(&[], &full());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{text}");
    for want in [
        "pending [12 34s]",
        "0x10000-0x20000 rw-p anon pgoff 0x0 file 0\n",
        "0x20000-0x21000 r-xp file pgoff 0x2 file 3\n",
        "futex_wait clock 1 remaining 5000000000 ns addr 0x7fff1004",
        " bytes, components 0x7",
        "objref 3 regular",
    ] {
        assert!(text.contains(want), "{want} not in {text}");
    }
}

#[test]
fn invalid_image_exits_1_with_offset() {
    let mut img = valid();
    let last = img.len() - 1;
    img[last] ^= 1;
    let out = ckptinfo(&[], &img);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1));
    let tail_off = img.len() - 16;
    assert!(
        text.contains(&format!(
            "invalid image at offset {tail_off}: bad tail magic"
        )),
        "{text}"
    );
    let out = ckptinfo(&["--json"], &img[..100]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text.contains("\"valid\": false"), "{text}");
    assert!(text.contains("\"message\": \"image truncated\""), "{text}");
}

#[test]
fn error_record_is_shown() {
    let img = image(&[
        header(),
        Record::Error(ErrorRecord {
            errno: 16,
            objref: 0,
            msg: b"fd 3: pipe not supported",
        }),
    ]);
    let out = ckptinfo(&[], &img);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text.contains("EBUSY objref 0: fd 3: pipe not supported"),
        "{text}"
    );
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(ckptinfo(&["--bogus"], b"").status.code(), Some(2));
    assert_eq!(ckptinfo(&["a", "b"], b"").status.code(), Some(2));
    assert_eq!(
        ckptinfo(&["/nonexistent/image"], b"").status.code(),
        Some(2)
    );
    let help = ckptinfo(&["--help"], b"");
    assert_eq!(help.status.code(), Some(0));
    assert!(String::from_utf8(help.stdout)
        .unwrap()
        .starts_with("usage: ckptinfo"));
}
