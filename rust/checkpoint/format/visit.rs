// SPDX-License-Identifier: GPL-2.0

//! The fields of records, as the tools show them.
//!
//! Each record type lists its fields once, in [`Payload::visit`]: name,
//! value, and how the two forms of `ckptinfo` show it. A [`Visitor`] turns
//! them into one of those forms: a JSON object with every field, or one line
//! of text with the fields that matter most. A field the line summarises
//! differently (`code 0x400000-0x401000` for two JSON fields) is given twice:
//! once for JSON only ([`Field::detail`]), once for the text only
//! ([`Field::text`]).
//!
//! [`Payload::visit`]: crate::Payload::visit

/// Which forms show a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shown {
    /// The JSON object and the line of text.
    Both,
    /// Only the JSON object: a detail the line leaves out.
    Json,
    /// Only the line of text: a summary of JSON fields.
    Text,
}

/// A field of a record, and how it is shown.
///
/// In JSON a field is `"key": value`. In the line of text it is
/// `label prefix value suffix` (without the space when the label is empty),
/// the items of a list joined by `sep`; a [`Value::Flag`] shows its label if
/// it is set, nothing otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    /// Key in JSON.
    pub key: &'static str,
    /// Label in the line of text (often the key); empty for none.
    pub label: &'static str,
    /// Which forms show it.
    pub shown: Shown,
    /// Separator of the items of a list, in the line of text.
    pub sep: &'static str,
    /// Text before the value, in the line of text.
    pub prefix: &'static str,
    /// Text after the value (a unit), in the line of text.
    pub suffix: &'static str,
}

impl Field {
    /// A field shown in both forms, labelled with its key, list items
    /// separated by `/`.
    pub const fn new(key: &'static str) -> Self {
        Self {
            key,
            label: key,
            shown: Shown::Both,
            sep: "/",
            prefix: "",
            suffix: "",
        }
    }

    /// A field of the line of text only, labelled `label` (empty for none).
    pub const fn text(label: &'static str) -> Self {
        Self {
            key: "",
            shown: Shown::Text,
            ..Self::new(label)
        }
    }

    /// Shows the field only in JSON.
    pub const fn detail(self) -> Self {
        Self {
            shown: Shown::Json,
            ..self
        }
    }

    /// Labels the field `label` in the line of text.
    pub const fn label(self, label: &'static str) -> Self {
        Self { label, ..self }
    }

    /// Shows the value without a label in the line of text.
    pub const fn bare(self) -> Self {
        self.label("")
    }

    /// Separates list items by `sep` in the line of text.
    pub const fn sep(self, sep: &'static str) -> Self {
        Self { sep, ..self }
    }

    /// Puts `prefix` before the value and `suffix` after it in the line
    /// of text.
    pub const fn around(self, prefix: &'static str, suffix: &'static str) -> Self {
        Self {
            prefix,
            suffix,
            ..self
        }
    }

    /// Puts `suffix` after the value in the line of text.
    pub const fn suffix(self, suffix: &'static str) -> Self {
        Self { suffix, ..self }
    }

    /// Quotes the value in the line of text.
    pub const fn quoted(self) -> Self {
        self.around("\"", "\"")
    }

    /// Returns true if the JSON object shows the field.
    pub fn in_json(&self) -> bool {
        self.shown != Shown::Text
    }

    /// Returns true if the line of text shows the field.
    pub fn in_text(&self) -> bool {
        self.shown != Shown::Json
    }
}

impl From<&'static str> for Field {
    fn from(key: &'static str) -> Self {
        Self::new(key)
    }
}

/// The value of a field, or an item of a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value<'a> {
    /// A signed number.
    Int(i64),
    /// An unsigned number.
    Uint(u64),
    /// An address or a mask: a number in JSON, `0x...` in text.
    Hex(u64),
    /// Flags or a mode: a number in JSON, `0o...` in text.
    Oct(u64),
    /// A boolean; see [`Field`] for its text.
    Flag(bool),
    /// The name of a kind or a constant: a string.
    Name(&'a str),
    /// Bytes of the image, a string (not necessarily UTF-8).
    Str(&'a [u8]),
    /// Binary contents: a string of hexadecimal digits.
    Hexdump(&'a [u8]),
    /// A positive errno, shown by its name (`EBUSY`).
    Errno(i32),
    /// A number, followed in text by a tag (`34s`, a pending signal of
    /// the thread group).
    Tagged(u64, &'static str),
    /// A tuple of numbers: a JSON array, `a/b/...` in text.
    Words(&'a [u64]),
}

/// Receives the fields of a record, in order.
///
/// A list field is given as [`Visitor::start_list`], its items, then
/// [`Visitor::end_list`]; lists do not nest (a tuple item is a
/// [`Value::Words`]).
pub trait Visitor {
    /// Receives a field of one value.
    fn field(&mut self, f: &Field, v: Value<'_>);

    /// Starts a field that holds a list.
    fn start_list(&mut self, f: &Field);

    /// Receives an item of the current list.
    fn item(&mut self, v: Value<'_>);

    /// Ends the current list.
    fn end_list(&mut self);
}

/// Shorthands for the records' [`Payload::visit`](crate::Payload::visit).
impl dyn Visitor + '_ {
    /// A signed number.
    pub fn int(&mut self, f: impl Into<Field>, v: impl Into<i64>) {
        self.field(&f.into(), Value::Int(v.into()));
    }

    /// An unsigned number.
    pub fn uint(&mut self, f: impl Into<Field>, v: impl Into<u64>) {
        self.field(&f.into(), Value::Uint(v.into()));
    }

    /// An address or a mask.
    pub fn hex(&mut self, f: impl Into<Field>, v: impl Into<u64>) {
        self.field(&f.into(), Value::Hex(v.into()));
    }

    /// Flags or a mode.
    pub fn oct(&mut self, f: impl Into<Field>, v: impl Into<u64>) {
        self.field(&f.into(), Value::Oct(v.into()));
    }

    /// A boolean.
    pub fn flag(&mut self, f: impl Into<Field>, v: bool) {
        self.field(&f.into(), Value::Flag(v));
    }

    /// The name of a kind or a constant.
    pub fn name(&mut self, f: impl Into<Field>, v: &str) {
        self.field(&f.into(), Value::Name(v));
    }

    /// A string of the image.
    pub fn str(&mut self, f: impl Into<Field>, v: &[u8]) {
        self.field(&f.into(), Value::Str(v));
    }

    /// A list.
    pub fn list<'v>(&mut self, f: impl Into<Field>, items: impl IntoIterator<Item = Value<'v>>) {
        self.start_list(&f.into());
        for v in items {
            self.item(v);
        }
        self.end_list();
    }
}
