// SPDX-License-Identifier: GPL-2.0

//! The object hash: shared kernel objects and their objrefs.
//!
//! At checkpoint, an object (credentials, later files, mms, ...) is written the
//! first time it is met and given an objref; later users record only the
//! objref. The hash holds a reference on each object, so that an address cannot
//! be reused by another object while the checkpoint runs, and counts how often
//! each object is met (the basis of leak detection for whole-container
//! checkpoints). At restart, objrefs are defined by their records before use,
//! and the hash maps them to what was restored.

use crate::sys::{cred::Cred, file::File};
use ckpt_format::{
    stream::{ObjKind, ObjTable},
    FormatError,
};
use kernel::{
    prelude::*,
    rbtree::{RBTree, RBTreeNode},
    types::ARef,
};

/// A shared object held by the hash.
pub(crate) enum Obj {
    /// Credentials.
    Cred(ARef<Cred>),
    /// An open file.
    File(ARef<File>),
}

impl Obj {
    fn kind(&self) -> ObjKind {
        match self {
            Obj::Cred(_) => ObjKind::Cred,
            Obj::File(_) => ObjKind::File,
        }
    }

    /// The identity of the object: the address of the C object.
    fn addr(&self) -> usize {
        match self {
            Obj::Cred(c) => c.addr(),
            Obj::File(f) => f.addr(),
        }
    }
}

struct Entry {
    kind: ObjKind,
    /// The object, referenced for the life of the hash; `None` at restart
    /// until its restore builds it.
    obj: Option<Obj>,
    /// Times the object was met (checkpoint).
    users: u32,
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
    /// True if the object was not in the hash: its record must be written.
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

    /// Finds `obj` in the hash, or adds it under a new objref.
    pub(crate) fn lookup_add(&mut self, obj: Obj) -> Result<Lookup> {
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
            kind: obj.kind(),
            obj: Some(obj),
            users: 1,
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

    /// Checkpoint: returns the objref of the object at `addr`, if the hash
    /// holds it.
    pub(crate) fn objref_of(&self, addr: usize) -> Option<i32> {
        self.by_addr.get(&addr).copied()
    }

    /// Returns how many times the object `objref` was met, and whether the
    /// hash holds it (restart: whether it was restored).
    pub(crate) fn users(&self, objref: i32) -> (u32, bool) {
        self.by_ref
            .get(&objref)
            .map_or((0, false), |e| (e.users, e.obj.is_some()))
    }

    /// Restart: records what was restored for `objref`, defined by the
    /// stream check with the same kind.
    pub(crate) fn set(&mut self, objref: i32, obj: Obj) -> Result {
        match self.by_ref.get_mut(&objref) {
            Some(e) if e.kind == obj.kind() => {
                e.obj = Some(obj);
                e.users = e.users.saturating_add(1);
                Ok(())
            }
            _ => Err(EINVAL),
        }
    }

    /// Restart: returns the file restored for `objref`.
    pub(crate) fn file(&mut self, objref: i32) -> Option<ARef<File>> {
        let e = self.by_ref.get_mut(&objref)?;
        match &e.obj {
            Some(Obj::File(f)) => {
                e.users = e.users.saturating_add(1);
                Some(f.clone())
            }
            _ => None,
        }
    }

    /// Restart: returns the credentials restored for `objref`.
    pub(crate) fn cred(&mut self, objref: i32) -> Option<ARef<Cred>> {
        let e = self.by_ref.get_mut(&objref)?;
        match &e.obj {
            Some(Obj::Cred(c)) => {
                e.users = e.users.saturating_add(1);
                Some(c.clone())
            }
            _ => None,
        }
    }

    /// Returns the number of objects in the hash.
    pub(crate) fn count(&self) -> usize {
        self.len
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
            obj: None,
            users: 0,
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
