// SPDX-License-Identifier: GPL-2.0

//! Credentials: checkpoint and restore.
//!
//! Credentials are shared objects: tasks that share a `struct cred` refer to
//! one cred record. The ids are recorded as seen from the checkpointer's user
//! namespace.

use crate::{
    ctx::Ctx,
    objhash::Obj,
    sys::cred::{Cred, CredIds},
};
use ckpt_format::{CredRecord, Record};
use kernel::{prelude::*, types::ARef};

/// Writes `cred` if it was not written yet, and returns its objref.
pub(crate) fn checkpoint_cred(ctx: &mut Ctx, cred: ARef<Cred>) -> Result<i32> {
    let (c, mut groups) = cred.record()?;
    let found = ctx.objhash.lookup_add(Obj::Cred(cred))?;
    if found.first {
        let mut bytes = KVec::with_capacity(groups.len() * 4, GFP_KERNEL_ACCOUNT)?;
        // Sorted as seen from the caller's namespace; unmapped ids all read
        // as the overflow id: keep one of each.
        groups.sort_unstable();
        let mut last = None;
        for g in groups.iter().copied() {
            if last != Some(g) {
                bytes.extend_from_slice(&g.to_le_bytes(), GFP_KERNEL_ACCOUNT)?;
                last = Some(g);
            }
        }
        ctx.write_record(&Record::Cred(CredRecord {
            objref: found.objref,
            uids: c.uids,
            gids: c.gids,
            securebits: c.securebits,
            caps: c.caps,
            groups: &bytes,
        }))?;
    }
    Ok(found.objref)
}

/// Builds the credentials of a cred record, after checking that the caller
/// may take them (`EPERM` otherwise). Files of the image are reopened with
/// them; the task that uses them takes them at the end of restart.
pub(crate) fn restore_cred(ctx: &mut Ctx, rec: &CredRecord<'_>) -> Result {
    let mut groups = KVec::with_capacity(rec.groups.len() / 4, GFP_KERNEL_ACCOUNT)?;
    for g in rec.group_ids() {
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
    let cred = Cred::prepare(&ids, &groups).inspect_err(|e| {
        ctx.log(format_args!(
            "cred {}: uid {} gid {}, {} groups, capabilities {:#x} are beyond the caller's privilege (errno {})",
            rec.objref,
            rec.uids[1],
            rec.gids[1],
            groups.len(),
            rec.caps[1],
            -e.to_errno()
        ))
    })?;
    ctx.objhash.set(rec.objref, Obj::Cred(cred))
}
