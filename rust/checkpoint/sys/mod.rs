// SPDX-License-Identifier: GPL-2.0

//! Thin safe abstractions over the C structures that checkpoint/restart reads
//! and writes.
//!
//! This is the only module with `unsafe` code. Each type wraps one C object
//! and states its invariants; the rest of the crate is safe Rust.

pub(crate) mod cred;
pub(crate) mod event;
pub(crate) mod file;
pub(crate) mod lock;
pub(crate) mod mm;
pub(crate) mod pipe;
pub(crate) mod shmem;
pub(crate) mod signal;
pub(crate) mod task;
pub(crate) mod timer;
pub(crate) mod tree;
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

/// Returns the NUL-terminated string that `d_path()` and the like wrote at
/// `p`, inside `buf` (`EINVAL` if `p` is not in `buf` or there is no NUL).
fn in_buf(buf: &[u8], p: *mut kernel::ffi::c_char) -> kernel::error::Result<&[u8]> {
    let start = (p as usize).wrapping_sub(buf.as_ptr() as usize);
    let s = buf.get(start..).ok_or(kernel::error::code::EINVAL)?;
    let end = s
        .iter()
        .position(|&b| b == 0)
        .ok_or(kernel::error::code::EINVAL)?;
    Ok(&s[..end])
}
