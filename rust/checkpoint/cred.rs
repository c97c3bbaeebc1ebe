// SPDX-License-Identifier: GPL-2.0

//! Credentials: checkpoint and restore.
//!
//! Credentials are shared objects: tasks that share a `struct cred` refer to
//! one cred record. The ids are recorded as seen from the checkpointer's user
//! namespace.

use crate::{
    ctx::Ctx,
    objhash::Object,
    sys::cred::{Cred, CredIds},
};
use ckpt_format::{stream::ObjKind, CredRecord, LeArray, Record};
use kernel::{prelude::*, types::ARef};

impl Object for ARef<Cred> {
    const KIND: ObjKind = ObjKind::Cred;
    type Record<'a> = CredRecord<'a>;

    fn addr(&self) -> usize {
        Cred::addr(self)
    }

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
        Cred::prepare(&ids, &groups).inspect_err(|e| {
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
