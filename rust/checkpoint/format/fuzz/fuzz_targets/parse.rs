// SPDX-License-Identifier: GPL-2.0

//! Feeds arbitrary bytes to the image parser and stream checker: they must
//! never panic, and whatever they accept must re-encode to the same bytes.

#![no_main]

use ckpt_format::stream::{validate, ObjKind, ObjTable};
use ckpt_format::{FormatError, MAX_SMALL_RECORD};
use libfuzzer_sys::fuzz_target;

#[derive(Default)]
struct Objs(Vec<(i32, ObjKind)>);

impl ObjTable for Objs {
    type Error = FormatError;
    fn define(&mut self, objref: i32, kind: ObjKind) -> Result<(), FormatError> {
        self.0.push((objref, kind));
        Ok(())
    }
    fn kind_of(&self, objref: i32) -> Option<ObjKind> {
        self.0.iter().find(|(r, _)| *r == objref).map(|(_, k)| *k)
    }
}

fuzz_target!(|data: &[u8]| {
    let mut reencoded = Vec::new();
    let result = validate(data, &mut Objs::default(), |item| {
        let mut buf = [0u8; MAX_SMALL_RECORD];
        let n = item.record.encode(&mut buf).expect("a decoded record encodes");
        reencoded.extend_from_slice(&buf[..n]);
    });
    if let Ok(len) = result {
        // One image has one encoding.
        assert_eq!(&data[..len], &reencoded[..]);
    }
});
