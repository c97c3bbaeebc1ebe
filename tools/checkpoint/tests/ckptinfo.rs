// SPDX-License-Identifier: GPL-2.0

//! ckptinfo on images built with the format crate: text, JSON, exit status.

use ckpt_format::*;
use std::io::Write;
use std::process::{Command, Output, Stdio};

fn image(records: &[Record<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for r in records {
        let mut buf = [0u8; MAX_SMALL_RECORD];
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

fn valid() -> Vec<u8> {
    image(&[
        header(),
        Record::Cred(CredRecord {
            objref: 1,
            uids: [1000; 4],
            gids: [100; 4],
            groups: &[24, 0, 0, 0, 27, 0, 0, 0],
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
        Record::Tail(Tail),
    ])
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
    assert!(text.contains(&format!("valid image: 4 records, {} bytes", img.len())));
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
