// SPDX-License-Identifier: GPL-2.0

//! Credentials.
//!
//! C header: [`include/linux/cred.h`](srctree/include/linux/cred.h)

use core::ptr::NonNull;
use kernel::{
    bindings,
    types::{AlwaysRefCounted, Opaque},
};

/// Credentials (`struct cred`).
///
/// # Invariants
///
/// Instances are only reached through an `ARef<Cred>` that owns one reference
/// on valid credentials. Credentials are immutable once published.
#[repr(transparent)]
pub(crate) struct Cred(Opaque<bindings::cred>);

// SAFETY: Published credentials are immutable and refcounted atomically.
unsafe impl Send for Cred {}

// SAFETY: Published credentials are immutable.
unsafe impl Sync for Cred {}

// SAFETY: The type invariants guarantee that `Cred` is always refcounted.
unsafe impl AlwaysRefCounted for Cred {
    fn inc_ref(&self) {
        // SAFETY: The existence of a shared reference means the refcount is nonzero.
        unsafe { bindings::get_cred(self.0.get()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller owns one reference, which is given up here.
        unsafe { bindings::put_cred(obj.cast().as_ptr()) }
    }
}

impl Cred {
    /// Returns the address of the C object, the identity of the object in the
    /// object hash.
    pub(crate) fn addr(&self) -> usize {
        self.0.get() as usize
    }

    /// Returns the real, effective, saved and filesystem uids, then gids, as
    /// seen from the caller's user namespace (unmapped ids read as the
    /// overflow id).
    pub(crate) fn ids(&self) -> ([u32; 4], [u32; 4]) {
        // SAFETY: `self` is valid and immutable.
        let c = unsafe { &*self.0.get() };
        // SAFETY: `current_user_ns` has no preconditions.
        let ns = unsafe { bindings::current_user_ns() };
        // SAFETY: `ns` is the caller's valid user namespace.
        let u = |k| unsafe { bindings::from_kuid_munged(ns, k) };
        // SAFETY: As above.
        let g = |k| unsafe { bindings::from_kgid_munged(ns, k) };
        (
            [u(c.uid), u(c.euid), u(c.suid), u(c.fsuid)],
            [g(c.gid), g(c.egid), g(c.sgid), g(c.fsgid)],
        )
    }
}

/// Checks (`commit` false) or sets the caller's real, effective, saved and fs
/// ids, as seen from its user namespace. Ids other than the caller's need
/// `CAP_SETUID` and `CAP_SETGID` (`EPERM`); capabilities change with the uids
/// as for `setresuid()`.
pub(crate) fn set_current_ids(
    uids: &[u32; 4],
    gids: &[u32; 4],
    commit: bool,
) -> kernel::error::Result {
    // SAFETY: Both arrays hold the 4 ids the function reads.
    let r = unsafe { bindings::ckpt_set_ids(uids.as_ptr(), gids.as_ptr(), commit) };
    kernel::error::to_result(r)
}
