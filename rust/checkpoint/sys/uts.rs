// SPDX-License-Identifier: GPL-2.0

//! Identity of the running kernel, for the image header.
//!
//! C header: [`include/linux/utsname.h`](srctree/include/linux/utsname.h)

use kernel::bindings;

/// A copy of the caller's `uname` fields that the image header records.
pub(crate) struct Uts {
    /// `uname -r`.
    pub(crate) release: [u8; 65],
    /// `uname -v`.
    pub(crate) version: [u8; 65],
    /// `uname -m`.
    pub(crate) machine: [u8; 65],
}

impl Uts {
    /// Reads the utsname of the caller's UTS namespace.
    pub(crate) fn current() -> Self {
        let mut u = Uts {
            release: [0; 65],
            version: [0; 65],
            machine: [0; 65],
        };
        // SAFETY: The three buffers have the size of the utsname fields; the C
        // function copies them under `uts_sem`.
        unsafe {
            bindings::ckpt_read_utsname(
                u.release.as_mut_ptr().cast(),
                u.version.as_mut_ptr().cast(),
                u.machine.as_mut_ptr().cast(),
            )
        };
        u
    }
}

/// Returns the wall-clock time in seconds since the epoch.
pub(crate) fn real_seconds() -> u64 {
    // SAFETY: No preconditions.
    let t = unsafe { bindings::ktime_get_real_seconds() };
    u64::try_from(t).unwrap_or(0)
}

/// Returns the page size of this kernel.
pub(crate) fn page_size() -> u32 {
    // CAST: the page size fits in 32 bits on every architecture.
    bindings::PAGE_SIZE as u32
}
