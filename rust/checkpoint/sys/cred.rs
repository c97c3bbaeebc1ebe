// SPDX-License-Identifier: GPL-2.0

//! Credentials.
//!
//! C header: [`include/linux/cred.h`](srctree/include/linux/cred.h)

use core::ptr::NonNull;
use kernel::{
    bindings,
    prelude::*,
    types::{ARef, AlwaysRefCounted, Opaque},
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

    pub(super) fn as_ptr(&self) -> *mut bindings::cred {
        self.0.get()
    }

    /// Returns what a cred record saves: ids as seen from the caller's user
    /// namespace (unmapped ids read as the overflow id), capabilities,
    /// securebits, and the supplementary groups.
    pub(crate) fn record(&self) -> Result<(CredIds, KVec<u32>)> {
        // SAFETY: `self` is valid; its group list never changes.
        let n = unsafe { bindings::ckpt_cred_ngroups(self.0.get()) };
        let mut groups = KVec::from_elem(0u32, n as usize, GFP_KERNEL_ACCOUNT)?;
        // SAFETY: All-zero bytes are a valid `ckpt_cred` (plain integers).
        let mut c: CredIds = unsafe { core::mem::zeroed() };
        // SAFETY: `self` is valid and immutable; `groups` has room for its
        // `n` groups.
        unsafe { bindings::ckpt_get_cred(self.0.get(), &mut c, groups.as_mut_ptr()) };
        Ok((c, groups))
    }

    /// Returns the caller's own ids (as seen from its user namespace; -1
    /// for unmapped ones), capabilities, securebits and groups.
    pub(crate) fn caller() -> Result<(CredIds, KVec<u32>)> {
        // SAFETY: No preconditions; only the caller changes its credentials.
        let n = unsafe { bindings::ckpt_caller_ngroups() };
        let mut groups = KVec::from_elem(0u32, n as usize, GFP_KERNEL_ACCOUNT)?;
        // SAFETY: All-zero bytes are a valid `ckpt_cred` (plain integers).
        let mut c: CredIds = unsafe { core::mem::zeroed() };
        // SAFETY: `groups` has room for the caller's `n` groups, which do not
        // change meanwhile.
        unsafe { bindings::ckpt_get_caller_cred(&mut c, groups.as_mut_ptr()) };
        Ok((c, groups))
    }

    /// Builds credentials from a cred record: the caller's, with the
    /// record's ids, groups, capabilities and securebits, given the
    /// privileges `needs` (`CKPT_NEED_*`) they take beyond the caller's
    /// (`EPERM` without them; `EINVAL` for unmapped ids). `security_capset()`
    /// checks the capability sets.
    pub(crate) fn prepare(c: &CredIds, groups: &[u32], needs: u32) -> Result<ARef<Cred>> {
        if groups.len() != c.ngroups as usize {
            return Err(EINVAL);
        }
        // SAFETY: `c` is valid and `groups` holds its `ngroups` ids; the
        // function returns new credentials with one reference, or an error
        // pointer.
        let p = unsafe { bindings::ckpt_prepare_cred(c, groups.as_ptr(), needs) };
        let p = kernel::error::from_err_ptr(p)?;
        let p = NonNull::new(p).ok_or(ENOMEM)?;
        // INVARIANT: The reference is given to the `ARef`.
        // SAFETY: As above.
        Ok(unsafe { ARef::from_raw(p.cast()) })
    }

    /// Makes these credentials (built by [`Cred::prepare`]) the caller's:
    /// groups and ids through `setgroups()`, `setresgid()`, `setresuid()`
    /// and the fs variants, then capabilities and securebits.
    pub(crate) fn commit_to_current(&self) -> Result {
        // SAFETY: `self` is valid; the function only reads it.
        kernel::error::to_result(unsafe { bindings::ckpt_commit_cred(self.0.get()) })
    }
}

/// What a cred record holds (`struct ckpt_cred`), without the groups.
pub(crate) type CredIds = bindings::ckpt_cred;

/// Returns whether the caller has capability `cap` in the initial user
/// namespace (`capable()`, which also marks the task as having used it).
pub(crate) fn capable(cap: u32) -> bool {
    // CAST: capability numbers are small.
    // SAFETY: No preconditions.
    unsafe { bindings::capable(cap as i32) }
}
