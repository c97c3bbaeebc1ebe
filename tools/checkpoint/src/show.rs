// SPDX-License-Identifier: GPL-2.0

//! Display of records, as text and as JSON.
//!
//! Each record lists its fields once (`ckpt_format::Payload::visit`); one
//! visitor here makes its line of text, another its JSON object.

use crate::{errno_name, json};
use ckpt_format::stream::Item;
use ckpt_format::visit::{Field, Value, Visitor};

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Collects the fields of a record as one line of text.
#[derive(Default)]
struct Text {
    parts: Vec<String>,
    list: Option<(Field, Vec<String>)>,
}

impl Text {
    fn value(v: Value<'_>) -> String {
        match v {
            Value::Int(n) => n.to_string(),
            Value::Uint(n) => n.to_string(),
            Value::Hex(n) => format!("{n:#x}"),
            Value::Oct(n) => format!("{n:#o}"),
            Value::Flag(b) => b.to_string(),
            Value::Name(s) => s.to_string(),
            Value::Str(b) => String::from_utf8_lossy(b).into_owned(),
            Value::Hexdump(b) => hex(b),
            Value::Errno(e) => errno_name(e),
            Value::Tagged(n, tag) => format!("{n}{tag}"),
            Value::Words(w) => w.iter().map(u64::to_string).collect::<Vec<_>>().join("/"),
        }
    }

    fn push(&mut self, f: &Field, value: &str) {
        let v = format!("{}{value}{}", f.prefix, f.suffix);
        self.parts.push(if f.label.is_empty() {
            v
        } else {
            format!("{} {v}", f.label)
        });
    }
}

impl Visitor for Text {
    fn field(&mut self, f: &Field, v: Value<'_>) {
        match v {
            _ if !f.in_text() => {}
            // A flag shows its label when it is set.
            Value::Flag(set) => {
                if set {
                    self.parts.push(f.label.to_string());
                }
            }
            v => self.push(f, &Self::value(v)),
        }
    }

    fn start_list(&mut self, f: &Field) {
        self.list = Some((*f, Vec::new()));
    }

    fn item(&mut self, v: Value<'_>) {
        if let Some((f, items)) = &mut self.list {
            if f.in_text() {
                items.push(Self::value(v));
            }
        }
    }

    fn end_list(&mut self) {
        if let Some((f, items)) = self.list.take() {
            if f.in_text() {
                self.push(&f, &items.join(f.sep));
            }
        }
    }
}

/// Collects the fields of a record as a JSON object.
struct Json {
    obj: json::Object,
    list: Option<(Field, Vec<String>)>,
}

impl Json {
    fn value(v: Value<'_>) -> String {
        match v {
            Value::Int(n) => n.to_string(),
            Value::Uint(n) | Value::Hex(n) | Value::Oct(n) | Value::Tagged(n, _) => n.to_string(),
            Value::Flag(b) => b.to_string(),
            Value::Name(s) => json::string(s.as_bytes()),
            Value::Str(b) => json::string(b),
            Value::Hexdump(b) => json::string(hex(b).as_bytes()),
            Value::Errno(e) => json::string(errno_name(e).as_bytes()),
            Value::Words(w) => json::array(w.iter().map(u64::to_string)),
        }
    }
}

impl Visitor for Json {
    fn field(&mut self, f: &Field, v: Value<'_>) {
        if f.in_json() {
            self.obj.push(f.key, Self::value(v));
        }
    }

    fn start_list(&mut self, f: &Field) {
        self.list = Some((*f, Vec::new()));
    }

    fn item(&mut self, v: Value<'_>) {
        if let Some((f, items)) = &mut self.list {
            if f.in_json() {
                items.push(Self::value(v));
            }
        }
    }

    fn end_list(&mut self) {
        if let Some((f, items)) = self.list.take() {
            if f.in_json() {
                self.obj.push(f.key, json::array(items.into_iter()));
            }
        }
    }
}

/// One line of text for a record.
pub fn line(item: &Item<'_>) -> String {
    let mut text = Text::default();
    item.record.visit(&mut text);
    format!(
        "{:>8}  {:<6} {:>4}  {}",
        item.offset,
        item.record.ty().name(),
        item.header.len,
        text.parts.join(" ")
    )
}

/// A JSON object for a record.
pub fn json(item: &Item<'_>) -> String {
    let mut j = Json {
        obj: json::Object::default()
            .str("type", item.record.ty().name().as_bytes())
            .raw("offset", item.offset)
            .raw("len", item.header.len),
        list: None,
    };
    item.record.visit(&mut j);
    j.obj.finish()
}
