// SPDX-License-Identifier: GPL-2.0

//! The credentials record, a shared object.

use crate::codec::{Decoder, Encoder, LeArray};
use crate::visit::{Field, Value, Visitor};
use crate::{FormatError, Payload, MAX_GROUPS};

/// Credentials, as seen from the user namespace of the checkpointer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CredRecord<'a> {
    /// Objref of this object.
    pub objref: i32,
    /// Real, effective, saved and filesystem uids.
    pub uids: [u32; 4],
    /// Real, effective, saved and filesystem gids.
    pub gids: [u32; 4],
    /// Securebits (`SECBIT_*`).
    pub securebits: u32,
    /// Capability sets, named by [`CredRecord::CAP_SETS`].
    pub caps: [u64; 5],
    /// Supplementary groups, in increasing order (at most [`MAX_GROUPS`]).
    pub groups: LeArray<'a, u32>,
}

impl CredRecord<'_> {
    /// Payload length without the groups.
    pub const MIN_LEN: usize = 8 + 8 * 4 + 8 + 5 * 8;

    /// Names of the capability sets, in order.
    pub const CAP_SETS: [&'static str; 5] = [
        "inheritable",
        "permitted",
        "effective",
        "bounding",
        "ambient",
    ];
}

impl<'a> Payload<'a> for CredRecord<'a> {
    const BOUNDS: (usize, usize) = (Self::MIN_LEN, Self::MIN_LEN + 4 * MAX_GROUPS);

    fn payload_len(&self) -> usize {
        Self::MIN_LEN + self.groups.byte_len()
    }

    fn encode(&self, e: &mut Encoder<'_>) -> Result<(), FormatError> {
        e.i32(self.objref)?;
        e.u32(0)?;
        for v in self.uids.iter().chain(self.gids.iter()) {
            e.u32(*v)?;
        }
        e.u32(self.securebits)?;
        if self.groups.len() > MAX_GROUPS {
            return Err(FormatError::BadValue("cred group count"));
        }
        // CAST: at most `MAX_GROUPS`.
        e.u32(self.groups.len() as u32)?;
        for c in self.caps {
            e.u64(c)?;
        }
        e.array(&self.groups)
    }

    fn decode(d: &mut Decoder<'a>) -> Result<Self, FormatError> {
        let objref = d.i32()?;
        if d.u32()? != 0 {
            return Err(FormatError::BadValue("cred reserved field"));
        }
        let mut r = Self {
            objref,
            ..Self::default()
        };
        for v in r.uids.iter_mut().chain(r.gids.iter_mut()) {
            *v = d.u32()?;
        }
        r.securebits = d.u32()?;
        let n = d.u32()? as usize;
        if n > MAX_GROUPS {
            return Err(FormatError::BadValue("cred group count"));
        }
        for c in r.caps.iter_mut() {
            *c = d.u64()?;
        }
        r.groups = d.array(n)?;
        // Sorted and distinct, as the kernel keeps them.
        let mut last = None;
        for g in r.groups.iter() {
            if last.is_some_and(|l| l >= g) {
                return Err(FormatError::BadValue("cred groups not sorted"));
            }
            last = Some(g);
        }
        Ok(r)
    }

    fn visit(&self, v: &mut dyn Visitor) {
        v.int("objref", self.objref);
        v.list(
            Field::new("uids").label("uid"),
            self.uids.map(|i| Value::Uint(i.into())),
        );
        v.list(
            Field::new("gids").label("gid"),
            self.gids.map(|i| Value::Uint(i.into())),
        );
        v.list(
            Field::new("groups").sep(","),
            self.groups.iter().map(|g| Value::Uint(g.into())),
        );
        v.hex("securebits", self.securebits);
        for (name, c) in Self::CAP_SETS.into_iter().zip(self.caps) {
            v.hex(Field::new(name).detail(), c);
        }
        v.list(Field::text("caps"), self.caps.map(Value::Hex));
    }
}
