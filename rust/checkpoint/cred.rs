// SPDX-License-Identifier: GPL-2.0

//! Credentials: checkpoint and restore.
//!
//! Credentials are shared objects: tasks that share a `struct cred` refer to
//! one cred record. The ids are recorded as seen from the checkpointer's user
//! namespace.

use crate::{
    ctx::Ctx,
    objhash::{Object, Shared},
    sys::cred::{Cred, CredIds},
};
use ckpt_format::{stream::ObjKind, CredRecord, LeArray, Record};
use kernel::{bindings, prelude::*, types::ARef};

impl Shared for ARef<Cred> {
    const KIND: ObjKind = ObjKind::Cred;

    fn addr(&self) -> usize {
        Cred::addr(self)
    }
}

impl Object for ARef<Cred> {
    type Record<'a> = CredRecord<'a>;

    fn checkpoint(&self, ctx: &mut Ctx, objref: i32) -> Result {
        let (c, mut groups) = self.record()?;
        // Sorted as seen from the caller's namespace; unmapped ids all read
        // as the overflow id: keep one of each.
        groups.sort_unstable();
        let mut n = 0;
        for i in 0..groups.len() {
            if n == 0 || groups[n - 1] != groups[i] {
                groups[n] = groups[i];
                n += 1;
            }
        }
        ctx.write_record(&Record::Cred(CredRecord {
            objref,
            uids: c.uids,
            gids: c.gids,
            securebits: c.securebits,
            caps: c.caps,
            groups: LeArray::Values(&groups[..n]),
        }))
    }

    fn objref(rec: &CredRecord<'_>) -> i32 {
        rec.objref
    }

    /// Builds the credentials of a cred record, after checking that the
    /// caller may take them (`EPERM` otherwise). Files of the image are
    /// reopened with them; the task that uses them takes them at the end of
    /// restart.
    fn restore(ctx: &mut Ctx, rec: &CredRecord<'_>) -> Result<Self> {
        let mut groups = KVec::with_capacity(rec.groups.len(), GFP_KERNEL_ACCOUNT)?;
        for g in rec.groups.iter() {
            groups.push(g, GFP_KERNEL_ACCOUNT)?;
        }
        let ids = CredIds {
            uids: rec.uids,
            gids: rec.gids,
            securebits: rec.securebits,
            // CAST: at most `MAX_GROUPS`, checked by the format.
            ngroups: groups.len() as u32,
            caps: rec.caps,
        };
        let (caller, mut caller_groups) = Cred::caller()?;
        needs(&ids, &groups, &caller, &mut caller_groups)
            .and_then(|needs| Cred::prepare(&ids, &groups, needs))
            .inspect_err(|e| {
            ctx.log(format_args!(
                "cred {}: uid {} gid {}, {} groups, capabilities {:#x} are beyond the caller's privilege (errno {})",
                rec.objref,
                rec.uids[1],
                rec.gids[1],
                groups.len(),
                rec.caps[1],
                -e.to_errno()
            ))
            })
    }
}

/// `SECURE_ALL_BITS`, `SECURE_ALL_LOCKS` and `SECBIT_NO_CAP_AMBIENT_RAISE`
/// of include/uapi/linux/securebits.h.
const SECURE_ALL_BITS: u32 = 1 << 0 | 1 << 2 | 1 << 4 | 1 << 6;
const SECURE_ALL_LOCKS: u32 = SECURE_ALL_BITS << 1;
const SECBIT_NO_CAP_AMBIENT_RAISE: u32 = 1 << 6;

/// Returns the privileges (`CKPT_NEED_*`) that credentials `new` with
/// groups `groups` take beyond the caller's own (`old`, `old_groups`), as
/// the system calls that set each part decide it; `EPERM` for what no
/// privilege allows, `EINVAL` for capabilities this kernel does not have.
pub(crate) fn needs(
    new: &CredIds,
    groups: &[u32],
    old: &CredIds,
    old_groups: &mut [u32],
) -> Result<u32> {
    let mut needs = 0;
    // setresuid() and setresgid() let a task take its own real, effective
    // or saved id without privilege, setfsuid() and setfsgid() its fs id
    // too. Unmapped ids read as -1 on both sides, and fail as such later.
    let kept = |id: u32, own: &[u32; 4], fs: bool| own[..3].contains(&id) || (fs && own[3] == id);
    for i in 0..4 {
        if !kept(new.uids[i], &old.uids, i == 3) {
            needs |= bindings::CKPT_NEED_SETUID;
        }
        if !kept(new.gids[i], &old.gids, i == 3) {
            needs |= bindings::CKPT_NEED_SETGID;
        }
    }
    // setgroups(): any other list needs the privilege. Both are sorted by
    // id; the record's has no duplicates.
    old_groups.sort_unstable();
    if groups != &*old_groups {
        needs |= bindings::CKPT_NEED_SETGROUPS;
    }
    // Capabilities: only those this kernel knows. capset() itself checks
    // the permitted, effective and inheritable sets.
    let valid = (1u64 << (bindings::CAP_LAST_CAP + 1)) - 1;
    if new.caps.iter().any(|c| c & !valid != 0) {
        return Err(EINVAL);
    }
    let [inh, prm, _eff, bset, amb] = new.caps;
    let (old_bset, old_amb) = (old.caps[3], old.caps[4]);
    // PR_CAPBSET_DROP: the bounding set only shrinks, with CAP_SETPCAP.
    if bset & !old_bset != 0 {
        return Err(EPERM);
    }
    if old_bset & !bset != 0 {
        needs |= bindings::CKPT_NEED_SETPCAP;
    }
    // PR_CAP_AMBIENT_RAISE: ambient capabilities are permitted and
    // inheritable, and none is raised under SECBIT_NO_CAP_AMBIENT_RAISE.
    if amb & !(prm & inh) != 0
        || (amb & !old_amb != 0 && old.securebits & SECBIT_NO_CAP_AMBIENT_RAISE != 0)
    {
        return Err(EPERM);
    }
    // PR_SET_SECUREBITS: known bits, locked ones unchanged and still
    // locked, with CAP_SETPCAP.
    let (old_sb, sb) = (old.securebits, new.securebits);
    if sb != old_sb {
        if ((old_sb & SECURE_ALL_LOCKS) >> 1) & (old_sb ^ sb) != 0
            || old_sb & SECURE_ALL_LOCKS & !sb != 0
            || sb & !(SECURE_ALL_LOCKS | SECURE_ALL_BITS) != 0
        {
            return Err(EPERM);
        }
        needs |= bindings::CKPT_NEED_SETPCAP;
    }
    Ok(needs)
}
