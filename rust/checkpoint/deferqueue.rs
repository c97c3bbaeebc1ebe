// SPDX-License-Identifier: GPL-2.0

//! The deferqueue: work that must wait until the whole image is processed.
//!
//! Some state can only be set once everything else is restored (linux-cr's
//! examples: the blocked signal mask, which must not block the restart itself,
//! and objects whose users come later in the image). Such work is queued with
//! a plain function and argument, and run in order before the operation ends.

use kernel::prelude::*;

/// A deferred function and its argument, run on a context of type `C`.
struct Deferred<C> {
    func: fn(&mut C, u64) -> Result,
    arg: u64,
}

/// Work queued during one checkpoint or restart.
pub(crate) struct DeferQueue<C> {
    items: KVec<Deferred<C>>,
}

impl<C> DeferQueue<C> {
    pub(crate) fn new() -> Self {
        Self { items: KVec::new() }
    }

    /// Queues `func(ctx, arg)`.
    pub(crate) fn add(&mut self, func: fn(&mut C, u64) -> Result, arg: u64) -> Result {
        self.items
            .push(Deferred { func, arg }, GFP_KERNEL_ACCOUNT)?;
        Ok(())
    }

    /// Runs the work queued on `ctx` (found by `queue`) in order, including
    /// work queued while it runs, and stops at the first failure.
    ///
    /// Returns how many items ran.
    pub(crate) fn run(ctx: &mut C, queue: fn(&mut C) -> &mut Self) -> Result<usize> {
        let mut ran = 0;
        loop {
            let items = core::mem::take(&mut queue(ctx).items);
            if items.is_empty() {
                return Ok(ran);
            }
            for d in items {
                (d.func)(ctx, d.arg)?;
                ran += 1;
            }
        }
    }
}
