// SPDX-License-Identifier: GPL-2.0

//! In-kernel tests of the core mechanisms, run by the C KUnit suite in
//! rust/checkpoint/kunit.c (6.12 has no Rust KUnit test attribute).
//!
//! Each test returns 0, or the line of the first failed check.

use crate::{deferqueue::DeferQueue, objhash::ObjHash, sys::task::Task};
use kernel::{ffi::c_int, prelude::*};

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
    let Ok(a) = h.lookup_add(&me.cred()) else {
        return -1;
    };
    check!(a.first && a.objref == 1);
    let Ok(b) = h.lookup_add(&me.cred()) else {
        return -1;
    };
    check!(!b.first && b.objref == 1);
    // Another object: the credentials of init (pid 1 in our namespace).
    let Some(init) = Task::from_vpid(1) else {
        return -1;
    };
    let Ok(c) = h.lookup_add(&init.cred()) else {
        return -1;
    };
    check!(c.first == (c.objref == 2));
    check!(h.users(1) == (2, true));
    check!(h.users(2) == (1, true));
    check!(h.users(3) == (0, false));
    check!(h.count() == 2);
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
