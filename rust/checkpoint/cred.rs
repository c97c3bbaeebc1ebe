// SPDX-License-Identifier: GPL-2.0

//! Credentials: checkpoint and restore.
//!
//! Credentials are shared objects: tasks that share a `struct cred` refer to
//! one cred record. The ids are recorded as seen from the checkpointer's user
//! namespace.

use crate::{ctx::Ctx, objhash::Obj, sys::cred::Cred};
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

/// Restores credentials from their record.
///
/// The object hash already holds the objref (the stream check defined it).
/// Building a `struct cred` within the caller's privileges comes with task
/// restore; until then the record is only validated.
pub(crate) fn restore_cred(ctx: &mut Ctx, rec: &CredRecord) -> Result {
    ctx.log(format_args!(
        "cred {}: uid {} euid {} gid {} egid {}",
        rec.objref, rec.uids[0], rec.uids[1], rec.gids[0], rec.gids[1]
    ));
    Ok(())
}
