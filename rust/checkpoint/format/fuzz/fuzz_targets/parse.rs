// SPDX-License-Identifier: GPL-2.0

//! Feeds arbitrary bytes to the image parser and stream checker: they must
//! never panic, and whatever they accept must re-encode to the same bytes.

#![no_main]

use ckpt_format::stream::{validate, ObjMap};
use ckpt_format::MAX_SMALL_RECORD;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut reencoded = Vec::new();
    let result = validate(data, &mut ObjMap::default(), |item| {
        let mut buf = [0u8; MAX_SMALL_RECORD];
        let n = item.record.encode(&mut buf).expect("a decoded record encodes");
        reencoded.extend_from_slice(&buf[..n]);
    });
    if let Ok(len) = result {
        // One image has one encoding.
        assert_eq!(&data[..len], &reencoded[..]);
    }
});
