// SPDX-License-Identifier: GPL-2.0

//! Round-trips and validation rules of the image format.

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
        groups: &GROUPS,
    })
}

/// Groups 10, 20 and 30, as a cred record holds them.
const GROUPS: [u8; 12] = [10, 0, 0, 0, 20, 0, 0, 0, 30, 0, 0, 0];

#[test]
fn cred_groups_must_be_sorted() {
    let unsorted = [20u8, 0, 0, 0, 10, 0, 0, 0];
    let rec = Record::Cred(CredRecord {
        objref: 1,
        groups: &unsorted,
        ..Default::default()
    });
    let mut buf = vec![0u8; 256];
    let n = rec.encode(&mut buf).unwrap();
    let hdr = RecordHeader::decode(buf[..8].try_into().unwrap()).unwrap();
    assert!(Record::decode(&hdr, &buf[8..n][..hdr.payload_len()]).is_err());
    match cred(1) {
        Record::Cred(c) => assert_eq!(c.group_ids().collect::<Vec<_>>(), [10, 20, 30]),
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
        path: b"/dev/null",
    });
    let mut s = StreamCheck::new();
    let mut o = ObjMap::default();
    for r in [header(), cred(1), task(1), fs(), file, f] {
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
        let mut buf = [0u8; MAX_SMALL_RECORD];
        let n = r.encode(&mut buf).unwrap();
        assert_eq!(n % RECORD_ALIGN, 0);
        out.extend_from_slice(&buf[..n]);
    }
    out
}

fn good() -> Vec<u8> {
    image(&[header(), cred(1), task(1), Record::Tail(Tail)])
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
            RecordType::Cred,
            RecordType::Task,
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
        check(&image(&[header(), t])),
        Err(FormatError::Order("image has no task"))
    );
    let mut s = StreamCheck::new();
    let mut o = ObjMap::default();
    for r in [header(), cred(1), task(1), t] {
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
        check(&image(&[header(), task(1), t])),
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
        check(&image(&[header(), cred(1), task(-1)])),
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
        check(&image(&[header(), cred(1), bad_task])),
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
}
