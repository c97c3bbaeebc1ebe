// SPDX-License-Identifier: GPL-2.0

//! Property tests: any record round-trips, and no input makes the parser panic.

use ckpt_format::stream::Records;
use ckpt_format::*;
use proptest::prelude::*;

fn cstr(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(1u8..=255, 0..max)
}

fn any_record() -> impl Strategy<Value = (u8, Vec<u8>, Vec<u8>, [u32; 8], i32, i32, u64)> {
    (
        0u8..5,
        cstr(UTS_LEN),
        cstr(MAX_ERROR_MSG + 20),
        any::<[u32; 8]>(),
        1i32..i32::MAX,
        1i32..i32::MAX,
        any::<u64>(),
    )
}

proptest! {
    #[test]
    fn records_round_trip((kind, s, msg, words, a, b, n) in any_record()) {
        let comm = &s[..s.len().min(COMM_LEN - 1)];
        let rec = match kind {
            0 => Record::Header(Header {
                version: FORMAT_VERSION, flags: 0, arch: Arch::S390x,
                page_size: 1 << (12 + words[0] % 5), ckpt_id: n, time: n / 3,
                release: &s, version_str: comm, machine: &s,
            }),
            1 => Record::Task(TaskRecord {
                pid: a,
                tgid: b,
                ppid: a / 2,
                cred_ref: b,
                comm,
                oom_score_adj: (a % 2001) - 1000,
                ..Default::default()
            }),
            2 => Record::Cred(CredRecord {
                objref: a,
                uids: [words[0], words[1], words[2], words[3]],
                gids: [words[4], words[5], words[6], words[7]],
                ..Default::default()
            }),
            3 => Record::Tail(Tail),
            _ => Record::Error(ErrorRecord { errno: 1 + a % 4095, objref: b, msg: &msg }),
        };
        let mut buf = [0u8; MAX_SMALL_RECORD];
        let len = rec.encode(&mut buf).unwrap();
        let item = Records::new(&buf[..len]).next().unwrap().unwrap();
        match (rec, item.record) {
            (Record::Error(e), Record::Error(d)) => {
                prop_assert_eq!(e.errno, d.errno);
                prop_assert_eq!(&e.msg[..e.msg.len().min(MAX_ERROR_MSG)], d.msg);
            }
            (r, d) => prop_assert_eq!(r, d),
        }
    }

    #[test]
    fn parser_never_panics(data in proptest::collection::vec(any::<u8>(), 0..1024)) {
        for item in Records::new(&data) {
            if item.is_err() {
                break;
            }
        }
    }
}
