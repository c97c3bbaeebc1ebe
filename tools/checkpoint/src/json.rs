// SPDX-License-Identifier: GPL-2.0

//! A minimal JSON writer for `ckptinfo --json`.

use std::fmt::Write;

/// Quotes `b` as a JSON string; bytes that are not UTF-8 become U+FFFD.
pub fn string(b: &[u8]) -> String {
    let mut out = String::from("\"");
    for c in String::from_utf8_lossy(b).chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON array of already-encoded values.
pub fn array(items: impl Iterator<Item = String>) -> String {
    format!("[{}]", items.collect::<Vec<_>>().join(", "))
}

/// An object under construction: `{"key": value, ...}`.
#[derive(Default)]
pub struct Object {
    fields: Vec<String>,
}

impl Object {
    /// Adds a field whose value is already JSON.
    pub fn push(&mut self, key: &str, value: impl std::fmt::Display) {
        self.fields.push(format!("\"{key}\": {value}"));
    }

    /// Adds a field whose value is already JSON.
    pub fn raw(mut self, key: &str, value: impl std::fmt::Display) -> Self {
        self.push(key, value);
        self
    }

    /// Adds a string field.
    pub fn str(self, key: &str, value: &[u8]) -> Self {
        let v = string(value);
        self.raw(key, v)
    }

    /// Ends the object.
    pub fn finish(self) -> String {
        format!("{{{}}}", self.fields.join(", "))
    }
}
