// SPDX-License-Identifier: GPL-2.0

//! Thin safe abstractions over the C structures that checkpoint/restart reads
//! and writes.
//!
//! This is the only module with `unsafe` code. Each type wraps one C object
//! and states its invariants; the rest of the crate is safe Rust.

pub(crate) mod cred;
pub(crate) mod file;
pub(crate) mod mm;
pub(crate) mod task;
pub(crate) mod uts;

use kernel::{bindings, error::Error};

/// `EOPNOTSUPP`, which `kernel::error::code` lacks in 6.12.
pub(crate) fn eopnotsupp() -> Error {
    errno(bindings::EOPNOTSUPP)
}

/// Converts a positive errno constant from the bindings into an [`Error`].
pub(crate) fn errno(e: u32) -> Error {
    // CAST: errno constants are small positive numbers.
    Error::from_errno(-(e as i32))
}
