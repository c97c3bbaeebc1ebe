// SPDX-License-Identifier: GPL-2.0

//! Feeds arbitrary bytes to the image parser and stream checker: they must
//! never panic, whatever they accept must re-encode to the same bytes, and
//! showing its fields (as ckptinfo does) must not panic either.

#![no_main]

use ckpt_format::stream::{validate, ObjMap};
use ckpt_format::visit::{Field, Value, Visitor};
use libfuzzer_sys::fuzz_target;

/// Takes the fields of records and drops them.
struct Sink;

impl Visitor for Sink {
    fn field(&mut self, _: &Field, _: Value<'_>) {}
    fn start_list(&mut self, _: &Field) {}
    fn item(&mut self, _: Value<'_>) {}
    fn end_list(&mut self) {}
}

fuzz_target!(|data: &[u8]| {
    let mut reencoded = Vec::new();
    let result = validate(data, &mut ObjMap::default(), |item| {
        // Room for any record, pages and XSAVE areas included.
        let mut buf = vec![0u8; item.header.len as usize + 8];
        let n = item
            .record
            .encode(&mut buf)
            .expect("a decoded record encodes");
        reencoded.extend_from_slice(&buf[..n]);
        item.record.visit(&mut Sink);
    });
    if let Ok(len) = result {
        // One image has one encoding.
        assert_eq!(&data[..len], &reencoded[..]);
    }
});
