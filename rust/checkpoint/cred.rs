// SPDX-License-Identifier: GPL-2.0

//! Credentials: checkpoint and restore.
//!
//! Credentials are shared objects: tasks that share a `struct cred` refer to
//! one cred record. The ids are recorded as seen from the checkpointer's user
//! namespace.

use crate::{
    ctx::Ctx,
    objhash::Obj,
    sys::cred::{set_current_ids, Cred},
};
use ckpt_format::{CredRecord, Record};
use kernel::{prelude::*, types::ARef};

/// Writes `cred` if it was not written yet, and returns its objref.
pub(crate) fn checkpoint_cred(ctx: &mut Ctx, cred: ARef<Cred>) -> Result<i32> {
    let (uids, gids) = cred.ids();
    let found = ctx.objhash.lookup_add(Obj::Cred(cred))?;
    if found.first {
        ctx.write_record(&Record::Cred(CredRecord {
            objref: found.objref,
            uids,
            gids,
        }))?;
    }
    Ok(found.objref)
}

/// Keeps the ids of a cred record for the task that uses it.
pub(crate) fn restore_cred(ctx: &mut Ctx, rec: &CredRecord) -> Result {
    ctx.log(format_args!(
        "cred {}: uid {} euid {} gid {} egid {}",
        rec.objref, rec.uids[0], rec.uids[1], rec.gids[0], rec.gids[1]
    ));
    ctx.objhash
        .set(rec.objref, Obj::CredIds(rec.uids, rec.gids))
}

/// Returns the ids of cred `objref` after checking that the caller may take
/// them (`EPERM` otherwise).
pub(crate) fn restored_ids(ctx: &mut Ctx, objref: i32) -> Result<([u32; 4], [u32; 4])> {
    let (uids, gids) = ctx.objhash.cred_ids(objref).ok_or(EINVAL)?;
    if let Err(e) = set_current_ids(&uids, &gids, false) {
        ctx.log(format_args!(
            "cred {objref}: uid {} gid {} are beyond the caller's privilege (errno {})",
            uids[1],
            gids[1],
            -e.to_errno()
        ));
        return Err(e);
    }
    Ok((uids, gids))
}
