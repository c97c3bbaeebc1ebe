// SPDX-License-Identifier: GPL-2.0

//! Little-endian field codec over byte slices.
//!
//! Every multi-byte field of the image is little-endian, whatever the
//! architecture, so that one parser reads images of every machine.

use crate::FormatError;

/// Writes fields into a byte slice that was sized by the caller.
pub struct Encoder<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> Encoder<'a> {
    /// Creates an encoder that writes from the start of `buf`.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Returns the number of bytes written so far.
    pub fn len(&self) -> usize {
        self.pos
    }

    /// Returns true if nothing was written yet.
    pub fn is_empty(&self) -> bool {
        self.pos == 0
    }

    /// Reserves the next `n` bytes and returns them, to be filled in.
    fn reserve(&mut self, n: usize) -> Result<&mut [u8], FormatError> {
        let start = self.pos;
        let end = start.checked_add(n).ok_or(FormatError::NoSpace)?;
        let out = self.buf.get_mut(start..end).ok_or(FormatError::NoSpace)?;
        self.pos = end;
        Ok(out)
    }

    /// Appends raw bytes.
    pub fn bytes(&mut self, b: &[u8]) -> Result<(), FormatError> {
        self.reserve(b.len())?.copy_from_slice(b);
        Ok(())
    }

    /// Appends the values of an array, [`LeValue::SIZE`] bytes each.
    pub fn array<T: LeValue>(&mut self, a: &LeArray<'_, T>) -> Result<(), FormatError> {
        match *a {
            LeArray::Bytes(b) => self.bytes(&b[..a.byte_len()]),
            LeArray::Values(v) => {
                for x in v {
                    x.write(self.reserve(T::SIZE)?);
                }
                Ok(())
            }
        }
    }

    /// Appends a `u16`.
    pub fn u16(&mut self, v: u16) -> Result<(), FormatError> {
        self.bytes(&v.to_le_bytes())
    }

    /// Appends a `u32`.
    pub fn u32(&mut self, v: u32) -> Result<(), FormatError> {
        self.bytes(&v.to_le_bytes())
    }

    /// Appends an `i32`.
    pub fn i32(&mut self, v: i32) -> Result<(), FormatError> {
        self.bytes(&v.to_le_bytes())
    }

    /// Appends a `u64`.
    pub fn u64(&mut self, v: u64) -> Result<(), FormatError> {
        self.bytes(&v.to_le_bytes())
    }

    /// Appends `s` in a fixed field of `N` bytes, NUL-padded.
    ///
    /// `s` is cut at its first NUL; it must leave room for one.
    pub fn fixed_str<const N: usize>(&mut self, s: &[u8]) -> Result<(), FormatError> {
        let s = until_nul(s);
        if s.len() >= N {
            return Err(FormatError::BadString);
        }
        let mut field = [0u8; N];
        field[..s.len()].copy_from_slice(s);
        self.bytes(&field)
    }

    /// Appends `s` followed by a NUL, as the variable tail of a record.
    pub fn tail_str(&mut self, s: &[u8]) -> Result<(), FormatError> {
        self.bytes(until_nul(s))?;
        self.bytes(&[0])
    }
}

/// Reads fields from a byte slice, never past its end.
pub struct Decoder<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Decoder<'a> {
    /// Creates a decoder over `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Returns the bytes not read yet.
    pub fn remaining(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    /// Reads `n` raw bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], FormatError> {
        let end = self.pos.checked_add(n).ok_or(FormatError::Truncated)?;
        let b = self.buf.get(self.pos..end).ok_or(FormatError::Truncated)?;
        self.pos = end;
        Ok(b)
    }

    fn fixed<const N: usize>(&mut self) -> Result<[u8; N], FormatError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.bytes(N)?);
        Ok(a)
    }

    /// Reads an array of `n` values of [`LeValue::SIZE`] bytes each.
    pub fn array<T: LeValue>(&mut self, n: usize) -> Result<LeArray<'a, T>, FormatError> {
        let len = n.checked_mul(T::SIZE).ok_or(FormatError::Truncated)?;
        Ok(LeArray::Bytes(self.bytes(len)?))
    }

    /// Reads a `u16`.
    pub fn u16(&mut self) -> Result<u16, FormatError> {
        Ok(u16::from_le_bytes(self.fixed()?))
    }

    /// Reads a `u32`.
    pub fn u32(&mut self) -> Result<u32, FormatError> {
        Ok(u32::from_le_bytes(self.fixed()?))
    }

    /// Reads an `i32`.
    pub fn i32(&mut self) -> Result<i32, FormatError> {
        Ok(i32::from_le_bytes(self.fixed()?))
    }

    /// Reads a `u64`.
    pub fn u64(&mut self) -> Result<u64, FormatError> {
        Ok(u64::from_le_bytes(self.fixed()?))
    }

    /// Reads a fixed field of `N` bytes holding a NUL-terminated string.
    ///
    /// The string must be terminated inside the field and followed only by
    /// NULs, so that one image has one encoding.
    pub fn fixed_str<const N: usize>(&mut self) -> Result<&'a [u8], FormatError> {
        let field = self.bytes(N)?;
        let s = strict_cstr(field)?;
        if field[s.len()..].iter().any(|&b| b != 0) {
            return Err(FormatError::BadString);
        }
        Ok(s)
    }

    /// Reads the rest of the record as one NUL-terminated string of at most
    /// `max` bytes (without the NUL).
    pub fn tail_str(&mut self, max: usize) -> Result<&'a [u8], FormatError> {
        let rest = self.remaining();
        let s = strict_cstr(rest)?;
        // Exactly one NUL ends the record.
        if s.len() + 1 != rest.len() || s.len() > max {
            return Err(FormatError::BadString);
        }
        self.pos = self.buf.len();
        Ok(s)
    }

    /// Fails unless every byte was consumed.
    pub fn finish(&self) -> Result<(), FormatError> {
        if self.pos == self.buf.len() {
            Ok(())
        } else {
            Err(FormatError::TrailingBytes)
        }
    }
}

fn until_nul(s: &[u8]) -> &[u8] {
    match s.iter().position(|&b| b == 0) {
        Some(n) => &s[..n],
        None => s,
    }
}

/// Returns the string before the first NUL of `b`; there must be one.
fn strict_cstr(b: &[u8]) -> Result<&[u8], FormatError> {
    match b.iter().position(|&c| c == 0) {
        Some(n) => Ok(&b[..n]),
        None => Err(FormatError::BadString),
    }
}

/// A value stored little-endian in [`LeValue::SIZE`] bytes.
pub trait LeValue: Copy {
    /// Its size in the image.
    const SIZE: usize;

    /// Reads a value from the first [`LeValue::SIZE`] bytes of `b` (missing
    /// bytes read as zero).
    fn read(b: &[u8]) -> Self;

    /// Writes the value into the first [`LeValue::SIZE`] bytes of `out` (as
    /// many as fit).
    fn write(self, out: &mut [u8]);
}

macro_rules! le_int {
    ($($t:ty),*) => {$(
        impl LeValue for $t {
            const SIZE: usize = core::mem::size_of::<$t>();

            fn read(b: &[u8]) -> Self {
                let mut a = [0u8; core::mem::size_of::<$t>()];
                for (d, s) in a.iter_mut().zip(b) {
                    *d = *s;
                }
                <$t>::from_le_bytes(a)
            }

            fn write(self, out: &mut [u8]) {
                for (d, s) in out.iter_mut().zip(self.to_le_bytes()) {
                    *d = s;
                }
            }
        }
    )*};
}

le_int!(u32, u64);

impl<const N: usize> LeValue for [u64; N] {
    const SIZE: usize = 8 * N;

    fn read(b: &[u8]) -> Self {
        core::array::from_fn(|i| u64::read(b.get(8 * i..).unwrap_or(&[])))
    }

    fn write(self, out: &mut [u8]) {
        for (chunk, v) in out.chunks_mut(8).zip(self) {
            v.write(chunk);
        }
    }
}

/// An array of little-endian values in a record: decoded records borrow the
/// image's bytes, records being encoded borrow the values.
#[derive(Clone, Copy, Debug)]
pub enum LeArray<'a, T> {
    /// The values as they are in the image, [`LeValue::SIZE`] bytes each.
    Bytes(&'a [u8]),
    /// The values themselves.
    Values(&'a [T]),
}

impl<'a, T: LeValue> LeArray<'a, T> {
    /// Returns the number of values.
    pub fn len(&self) -> usize {
        match self {
            Self::Bytes(b) => b.len().checked_div(T::SIZE).unwrap_or(0),
            Self::Values(v) => v.len(),
        }
    }

    /// Returns true if there is no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Returns the length of the values in the image.
    pub fn byte_len(&self) -> usize {
        self.len() * T::SIZE
    }

    /// Returns value `i`.
    pub fn get(&self, i: usize) -> Option<T> {
        match self {
            Self::Bytes(b) => {
                let start = i.checked_mul(T::SIZE)?;
                b.get(start..start.checked_add(T::SIZE)?).map(T::read)
            }
            Self::Values(v) => v.get(i).copied(),
        }
    }

    /// Returns the values, in order.
    pub fn iter(&self) -> impl Iterator<Item = T> + 'a {
        let a = *self;
        (0..a.len()).filter_map(move |i| a.get(i))
    }
}

impl<T: LeValue + PartialEq> PartialEq for LeArray<'_, T> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl<T: LeValue + Eq> Eq for LeArray<'_, T> {}

impl<T> Default for LeArray<'_, T> {
    fn default() -> Self {
        Self::Values(&[])
    }
}
