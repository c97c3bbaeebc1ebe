// SPDX-License-Identifier: GPL-2.0

//! The object hash: shared kernel objects and their objrefs.
//!
//! Every class of shared object (credentials, open files, pipes...)
//! implements [`Object`]; descriptor tables and fs, which have no record of
//! their own but those of the processes that use them, only [`Shared`].
//! At checkpoint,
//! [`Ctx::checkpoint_obj`] writes an object the first time it is met and
//! gives it an objref; later users record only the objref. The hash holds a
//! reference on each object, so that an address cannot be reused by another
//! object while the checkpoint runs, and counts how often each object is met
//! (the basis of leak detection for whole-container checkpoints). At
//! restart, an object's record comes before its first user: [`Ctx::read`]
//! restores it when it meets it (through [`class_of`]), and users fetch it by
//! objref with [`Ctx::fetch`]. The hash is the only place where classes meet.

use crate::{ctx::Ctx, files, sys::cred::Cred};
use ckpt_format::{
    stream::{ObjKind, ObjTable},
    ContentsRecord, FormatError, Record, RecordKind, RecordType,
};
use core::any::Any;
use kernel::{
    prelude::*,
    rbtree::{RBTree, RBTreeNode},
    sync::Arc,
    types::ARef,
};

/// A class of shared objects, as the hash knows it: its kind, the identity
/// of an object, and the references the kernel counts on it.
///
/// `Self` is what the hash holds: a counted reference on the object.
pub(crate) trait Shared: Clone + Send + Sync + 'static {
    /// The kind of object in the image.
    const KIND: ObjKind;

    /// Checkpoint: the identity of the object (the address of the C object).
    fn addr(&self) -> usize;

    /// Checkpoint, the leak check of a container: the references the kernel
    /// counts on the object besides the hash's own, each of which a user in
    /// the image must account for; `None` for a class that is not checked.
    fn kernel_refs(&self) -> Option<u64> {
        None
    }

    /// Checkpoint, the leak check: the identity ([`Shared::addr`]) of
    /// another object of the hash (a file) on which this one holds one of
    /// the references the kernel counts, so that the check does not count
    /// it as a user outside.
    fn holds(&self) -> Option<usize> {
        None
    }
}

/// A class of shared objects with records of their own: how an object is
/// written into its record, and how it is restored from one.
pub(crate) trait Object: Shared {
    /// The record of one object of this class.
    type Record<'a>: RecordKind<'a>;

    /// Checkpoint: writes the record of the object, under `objref`.
    fn checkpoint(&self, ctx: &mut Ctx, objref: i32) -> Result;

    /// Restart: the objref a record defines.
    fn objref(rec: &Self::Record<'_>) -> i32;

    /// Restart: builds the object of a record, with the checks of the
    /// system calls that would build it.
    fn restore(ctx: &mut Ctx, rec: &Self::Record<'_>) -> Result<Self>;

    /// Restart: writes the data of a contents record, which continues the
    /// object's own record, into its contents; `EINVAL` for a class
    /// without them.
    fn restore_contents(&self, _ctx: &mut Ctx, _rec: &ContentsRecord<'_>) -> Result {
        Err(EINVAL)
    }
}

/// How restart restores the objects of one class, found by record type,
/// and the contents records that continue one.
pub(crate) struct Class {
    kind: ObjKind,
    record: RecordType,
    restore: fn(&mut Ctx, Record<'_>) -> Result,
    contents: fn(&mut Ctx, &ContentsRecord<'_>) -> Result,
}

impl Class {
    const fn of<T: Object>() -> Self {
        Self {
            kind: T::KIND,
            record: <T::Record<'static> as RecordKind<'static>>::TYPE,
            restore: restore_obj::<T>,
            contents: restore_contents_of::<T>,
        }
    }

    /// Restores the object of `rec`, a record of this class, into the hash.
    pub(crate) fn restore(&self, ctx: &mut Ctx, rec: Record<'_>) -> Result {
        (self.restore)(ctx, rec)
    }
}

/// The classes of shared objects: one line per class.
const CLASSES: &[Class] = &[
    Class::of::<ARef<Cred>>(),
    Class::of::<files::OpenFile>(),
    Class::of::<files::Pipe>(),
    Class::of::<files::Unlinked>(),
    Class::of::<files::Shmem>(),
];

/// Restart: the class of objects that records of type `ty` define, if any.
pub(crate) fn class_of(ty: RecordType) -> Option<&'static Class> {
    CLASSES.iter().find(|c| c.record == ty)
}

fn restore_obj<T: Object>(ctx: &mut Ctx, rec: Record<'_>) -> Result {
    let rec = T::Record::from_record(rec).ok_or(EINVAL)?;
    let obj = T::restore(ctx, &rec)?;
    ctx.objhash.set(T::objref(&rec), obj)
}

/// Restart: gives the object that a contents record continues (the one
/// whose record came right before, as the stream rules require) its data.
pub(crate) fn restore_contents(ctx: &mut Ctx, rec: Record<'_>) -> Result {
    let Record::Contents(c) = rec else {
        return Err(EINVAL);
    };
    let kind = ctx.objhash.kind_of(c.objref).ok_or(EINVAL)?;
    let class = CLASSES.iter().find(|k| k.kind == kind).ok_or(EINVAL)?;
    (class.contents)(ctx, &c)
}

fn restore_contents_of<T: Object>(ctx: &mut Ctx, rec: &ContentsRecord<'_>) -> Result {
    let obj = ctx.objhash.get::<T>(rec.objref)?;
    obj.restore_contents(ctx, rec)
}

/// What the hash holds of an object: a counted reference, of any class.
fn hold<T: Shared>(obj: T) -> Result<Arc<dyn Any + Send + Sync>> {
    Ok(Arc::new(obj, GFP_KERNEL_ACCOUNT)?)
}

impl Ctx {
    /// Checkpoint: returns the objref of `obj`, writing its record first if
    /// this is the first time it is met.
    pub(crate) fn checkpoint_obj<T: Object>(&mut self, obj: &T) -> Result<i32> {
        let found = self.objhash.lookup_add(obj, self.task_pid)?;
        if found.first {
            obj.checkpoint(self, found.objref)?;
        }
        Ok(found.objref)
    }

    /// Checkpoint: [`Ctx::checkpoint_obj`] for a reference on `obj` that
    /// the kernel does not count either (an epoll's watch on a file), and
    /// so no user for the leak check.
    pub(crate) fn checkpoint_uncounted<T: Object>(&mut self, obj: &T) -> Result<i32> {
        let objref = self.checkpoint_obj(obj)?;
        if let Some(e) = self.objhash.by_ref.get_mut(&objref) {
            e.users = e.users.saturating_sub(1);
        }
        Ok(objref)
    }

    /// Checkpoint: returns the objref of `obj` if it was written already.
    pub(crate) fn objref_of<T: Object>(&self, obj: &T) -> Option<i32> {
        self.objhash.by_addr.get(&obj.addr()).copied()
    }

    /// Restart: returns the object restored for `objref`, which must be of
    /// class `T` (`EINVAL` otherwise, or if it was not restored).
    pub(crate) fn fetch<T: Shared>(&mut self, objref: i32) -> Result<T> {
        self.objhash.fetch(objref)
    }
}

struct Entry {
    kind: ObjKind,
    /// Checkpoint: [`Shared::addr`] of the object.
    addr: usize,
    /// Checkpoint: [`Shared::holds`] of the object.
    holds: Option<usize>,
    /// The object, referenced for the life of the hash; `None` at restart
    /// until its restore builds it.
    obj: Option<Arc<dyn Any + Send + Sync>>,
    /// Times the object was met.
    users: u32,
    /// Checkpoint: the pid of the task that met it first. Restart: of the
    /// task that defined it, if set with [`ObjHash::set_by`].
    first_pid: i32,
    /// Checkpoint: [`Shared::kernel_refs`] of its class.
    kernel_refs: fn(&(dyn Any + Send + Sync)) -> Option<u64>,
}

/// An object that the kernel counts more references on than the image
/// accounts for: a container shares it with a task outside.
pub(crate) struct Leak {
    pub(crate) objref: i32,
    pub(crate) kind: ObjKind,
    pub(crate) first_pid: i32,
    pub(crate) outside: u64,
}

fn no_refs(_: &(dyn Any + Send + Sync)) -> Option<u64> {
    None
}

/// Most objects one checkpoint or restart holds: an image cannot make the
/// kernel hold more (`E2BIG`).
pub(crate) const MAX_OBJECTS: usize = 1 << 16;

/// The objects of one checkpoint or restart.
pub(crate) struct ObjHash {
    by_addr: RBTree<usize, i32>,
    by_ref: RBTree<i32, Entry>,
    next_ref: i32,
    len: usize,
}

/// What [`ObjHash::lookup_add`] found.
pub(crate) struct Lookup {
    /// Objref of the object.
    pub(crate) objref: i32,
    /// The object was not in the hash: its record must be written.
    pub(crate) first: bool,
}

impl ObjHash {
    pub(crate) fn new() -> Self {
        Self {
            by_addr: RBTree::new(),
            by_ref: RBTree::new(),
            next_ref: 1,
            len: 0,
        }
    }

    /// Finds `obj` in the hash, or adds it under a new objref, met first by
    /// task `pid`.
    pub(crate) fn lookup_add<T: Shared>(&mut self, obj: &T, pid: i32) -> Result<Lookup> {
        let addr = obj.addr();
        if let Some(&objref) = self.by_addr.get(&addr) {
            if let Some(e) = self.by_ref.get_mut(&objref) {
                e.users = e.users.saturating_add(1);
            }
            return Ok(Lookup {
                objref,
                first: false,
            });
        }
        if self.len >= MAX_OBJECTS {
            return Err(E2BIG);
        }
        let objref = self.next_ref;
        let next = objref.checked_add(1).ok_or(ENOSPC)?;
        let entry = Entry {
            kind: T::KIND,
            addr,
            holds: obj.holds(),
            obj: Some(hold(obj.clone())?),
            users: 1,
            first_pid: pid,
            kernel_refs: |o| o.downcast_ref::<T>().and_then(T::kernel_refs),
        };
        // Allocate both nodes first, so that a failure leaves the hash unchanged.
        let by_addr = RBTreeNode::new(addr, objref, GFP_KERNEL_ACCOUNT)?;
        let by_ref = RBTreeNode::new(objref, entry, GFP_KERNEL_ACCOUNT)?;
        self.by_addr.insert(by_addr);
        self.by_ref.insert(by_ref);
        self.next_ref = next;
        self.len += 1;
        Ok(Lookup {
            objref,
            first: true,
        })
    }

    /// Checkpoint: counts `n` more users of `objref`, met without a
    /// lookup of their own (the other threads of a process).
    pub(crate) fn add_users(&mut self, objref: i32, n: u32) {
        if let Some(e) = self.by_ref.get_mut(&objref) {
            e.users = e.users.saturating_add(n);
        }
    }

    /// Restart: the pid of the task whose records defined `objref`
    /// ([`ObjHash::set_by`]), or 0.
    pub(crate) fn definer(&self, objref: i32) -> i32 {
        self.by_ref.get(&objref).map_or(0, |e| e.first_pid)
    }

    /// Returns how many times the object `objref` was met, and whether the
    /// hash holds it (restart: whether it was restored).
    pub(crate) fn users(&self, objref: i32) -> (u32, bool) {
        self.by_ref
            .get(&objref)
            .map_or((0, false), |e| (e.users, e.obj.is_some()))
    }

    /// Restart: records what was restored for `objref`, defined by the
    /// stream check with the kind of `T`, once.
    pub(crate) fn set<T: Shared>(&mut self, objref: i32, obj: T) -> Result {
        match self.by_ref.get_mut(&objref) {
            Some(e) if e.kind == T::KIND && e.obj.is_none() => {
                e.obj = Some(hold(obj)?);
                Ok(())
            }
            _ => Err(EINVAL),
        }
    }

    /// Restart: [`ObjHash::set`] for an object that task `pid` defines
    /// with its own records, and that later tasks share.
    pub(crate) fn set_by<T: Shared>(&mut self, objref: i32, obj: T, pid: i32) -> Result {
        self.set(objref, obj)?;
        if let Some(e) = self.by_ref.get_mut(&objref) {
            e.first_pid = pid;
        }
        Ok(())
    }

    /// Restart: returns the object restored for `objref`, of class `T`,
    /// without counting a user.
    fn get<T: Shared>(&self, objref: i32) -> Result<T> {
        let e = self.by_ref.get(&objref).ok_or(EINVAL)?;
        let obj = e.obj.as_deref().and_then(|o| o.downcast_ref::<T>());
        obj.cloned().ok_or(EINVAL)
    }

    /// Restart: returns the object restored for `objref`, which must be of
    /// class `T`, and counts a user of it.
    pub(crate) fn fetch<T: Shared>(&mut self, objref: i32) -> Result<T> {
        let obj = self.get::<T>(objref)?;
        if let Some(e) = self.by_ref.get_mut(&objref) {
            e.users = e.users.saturating_add(1);
        }
        Ok(obj)
    }

    /// Returns the number of objects in the hash.
    pub(crate) fn count(&self) -> usize {
        self.len
    }

    /// Checkpoint of a container: the first object on which the kernel
    /// counts references that none of its users in the image accounts for,
    /// nor another object of the hash holds.
    pub(crate) fn leak(&self) -> Result<Option<Leak>> {
        let mut held: RBTree<usize, u64> = RBTree::new();
        for e in self.by_ref.values() {
            let Some(addr) = e.holds else { continue };
            match held.get_mut(&addr) {
                Some(n) => *n += 1,
                None => {
                    held.insert(RBTreeNode::new(addr, 1, GFP_KERNEL_ACCOUNT)?);
                }
            }
        }
        Ok(self.by_ref.iter().find_map(|(&objref, e)| {
            let refs = (e.kernel_refs)(e.obj.as_deref()?)?;
            let refs = refs.saturating_sub(held.get(&e.addr).copied().unwrap_or(0));
            (refs > u64::from(e.users)).then(|| Leak {
                objref,
                kind: e.kind,
                first_pid: e.first_pid,
                outside: refs - u64::from(e.users),
            })
        }))
    }
}

/// An error of [`ObjTable::define`]: the image, or the kernel.
pub(crate) enum DefineError {
    /// The image breaks a rule of the format.
    Format(FormatError),
    /// The kernel failed (out of memory).
    Kernel(Error),
}

impl From<FormatError> for DefineError {
    fn from(e: FormatError) -> Self {
        DefineError::Format(e)
    }
}

impl ObjTable for ObjHash {
    type Error = DefineError;

    fn define(&mut self, objref: i32, kind: ObjKind) -> Result<(), DefineError> {
        if self.len >= MAX_OBJECTS {
            return Err(DefineError::Kernel(E2BIG));
        }
        let entry = Entry {
            kind,
            addr: 0,
            holds: None,
            obj: None,
            users: 0,
            first_pid: 0,
            kernel_refs: no_refs,
        };
        let node =
            RBTreeNode::new(objref, entry, GFP_KERNEL_ACCOUNT).map_err(DefineError::Kernel)?;
        self.by_ref.insert(node);
        self.len += 1;
        Ok(())
    }

    fn kind_of(&self, objref: i32) -> Option<ObjKind> {
        self.by_ref.get(&objref).map(|e| e.kind)
    }
}
