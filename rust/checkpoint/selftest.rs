// SPDX-License-Identifier: GPL-2.0

//! In-kernel tests of the core mechanisms, run by the C KUnit suite in
//! rust/checkpoint/kunit.c (6.12 has no Rust KUnit test attribute).
//!
//! Each test returns 0, or the line of the first failed check.

use crate::{
    cred,
    deferqueue::DeferQueue,
    files::OpenFile,
    objhash::ObjHash,
    sys::{
        cred::{Cred, CredIds},
        task::Task,
    },
};
use ckpt_format::stream::{ObjKind, ObjTable};
use kernel::{bindings, ffi::c_int, prelude::*, types::ARef};

macro_rules! check {
    ($cond:expr) => {
        if !$cond {
            // CAST: line numbers fit in an int.
            return line!() as c_int;
        }
    };
}

/// Tests the object hash: one objref per object, in order, and a count of
/// users per object.
#[no_mangle]
pub(crate) extern "C" fn ckpt_kunit_objhash() -> c_int {
    let mut h = ObjHash::new();
    let me = Task::current();
    let Ok(a) = h.lookup_add(&me.cred(), 0) else {
        return -1;
    };
    check!(a.first && a.objref == 1);
    let Ok(b) = h.lookup_add(&me.cred(), 0) else {
        return -1;
    };
    check!(!b.first && b.objref == 1);
    // Another object: the credentials of init (pid 1 in our namespace).
    let Some(init) = Task::from_vpid(1) else {
        return -1;
    };
    let Ok(c) = h.lookup_add(&init.cred(), 0) else {
        return -1;
    };
    check!(c.first == (c.objref == 2));
    check!(h.users(1) == (2, true));
    check!(h.users(2) == (1, true));
    check!(h.users(3) == (0, false));
    check!(h.count() == 2);
    0
}

/// Tests restart's side of the hash: an objref is restored once, with the
/// kind it was defined with, and fetched only as its own class.
#[no_mangle]
pub(crate) extern "C" fn ckpt_kunit_objhash_fetch() -> c_int {
    let mut h = ObjHash::new();
    let cred = Task::current().cred();
    check!(h.define(7, ObjKind::Cred).is_ok());
    check!(h.define(9, ObjKind::File).is_ok());
    check!(h.fetch::<ARef<Cred>>(7).is_err());
    // Not as another kind, nor an objref never defined.
    check!(h.set(9, cred.clone()).is_err());
    check!(h.set(8, cred.clone()).is_err());
    check!(h.set(7, cred.clone()).is_ok());
    // Once only.
    check!(h.set(7, cred.clone()).is_err());
    check!(h
        .fetch::<ARef<Cred>>(7)
        .is_ok_and(|c| c.addr() == cred.addr()));
    check!(h.fetch::<OpenFile>(7).is_err());
    check!(h.fetch::<ARef<Cred>>(8).is_err());
    check!(h.users(7) == (1, true));
    0
}

struct Log {
    seen: [u64; 4],
    n: usize,
    q: DeferQueue<Log>,
}

fn record(l: &mut Log, arg: u64) -> Result {
    l.seen[l.n] = arg;
    l.n += 1;
    // Work queued while the queue is running is run as well.
    if arg == 1 {
        l.q.add(record, 3)?;
    }
    if arg == 9 {
        return Err(EIO);
    }
    Ok(())
}

/// Tests the deferqueue: order, work added while running, and failure.
#[no_mangle]
pub(crate) extern "C" fn ckpt_kunit_deferqueue() -> c_int {
    let mut l = Log {
        seen: [0; 4],
        n: 0,
        q: DeferQueue::new(),
    };
    check!(l.q.add(record, 1).is_ok() && l.q.add(record, 2).is_ok());
    check!(matches!(DeferQueue::run(&mut l, |l| &mut l.q), Ok(3)));
    check!(l.seen[..3] == [1, 2, 3]);
    check!(l.q.add(record, 9).is_ok());
    check!(DeferQueue::run(&mut l, |l| &mut l.q).is_err());
    check!(matches!(DeferQueue::run(&mut l, |l| &mut l.q), Ok(0)));
    0
}

/// Tests the decision of what a cred record takes beyond the caller's own
/// credentials, against the rules of the system calls that set each part.
#[no_mangle]
pub(crate) extern "C" fn ckpt_kunit_cred_needs() -> c_int {
    let full = (1u64 << (bindings::CAP_LAST_CAP + 1)) - 1;
    let old = CredIds {
        uids: [1000, 1000, 1001, 1000],
        gids: [100, 100, 100, 100],
        securebits: 0,
        ngroups: 2,
        caps: [0, 0, 0, full, 0],
    };
    let mut old_groups = [20u32, 10];
    let needs = |new: &CredIds, groups: &[u32], old_groups: &mut [u32]| {
        cred::needs(new, groups, &old, old_groups).map_err(|e| e.to_errno())
    };
    // Its own credentials, and ids swapped among its own, need nothing.
    check!(needs(&old, &[10, 20], &mut old_groups) == Ok(0));
    let mut new = old;
    new.uids = [1001, 1001, 1000, 1001];
    check!(needs(&new, &[10, 20], &mut old_groups) == Ok(0));
    // Another uid, gid or group list needs CAP_SETUID, CAP_SETGID or
    // may_setgroups().
    new.uids[1] = 0;
    check!(needs(&new, &[10, 20], &mut old_groups) == Ok(bindings::CKPT_NEED_SETUID));
    new = old;
    new.gids[3] = 7;
    check!(needs(&new, &[10, 20], &mut old_groups) == Ok(bindings::CKPT_NEED_SETGID));
    check!(needs(&old, &[10], &mut old_groups) == Ok(bindings::CKPT_NEED_SETGROUPS));
    // The bounding set shrinks with CAP_SETPCAP, and never grows.
    new = old;
    new.caps[3] = full & !1;
    check!(needs(&new, &[10, 20], &mut old_groups) == Ok(bindings::CKPT_NEED_SETPCAP));
    let mut small = old;
    small.caps[3] = 1;
    new = old;
    new.caps[3] = 3;
    check!(cred::needs(&new, &[10, 20], &small, &mut old_groups).is_err());
    // Capabilities this kernel lacks, and ambient ones not inheritable.
    new = old;
    new.caps[1] = 1 << 63;
    check!(needs(&new, &[10, 20], &mut old_groups) == Err(EINVAL.to_errno()));
    new = old;
    new.caps[4] = 1;
    check!(needs(&new, &[10, 20], &mut old_groups) == Err(EPERM.to_errno()));
    // Securebits: setting one needs CAP_SETPCAP; a locked one stays.
    new = old;
    new.securebits = 1 << 4;
    check!(needs(&new, &[10, 20], &mut old_groups) == Ok(bindings::CKPT_NEED_SETPCAP));
    let mut locked = old;
    locked.securebits = 1 << 5;
    new = old;
    new.securebits = 1 << 4 | 1 << 5;
    check!(cred::needs(&new, &[10, 20], &locked, &mut old_groups) == Err(EPERM));
    0
}
