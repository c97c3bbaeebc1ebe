// SPDX-License-Identifier: GPL-2.0

//! x86 support of checkpoint/restart (a module of the `checkpoint` crate).
//!
//! Register and extended-state capture and restore will live here.

use ckpt_format::Arch;

/// The architecture of the images this kernel writes and restores.
pub(crate) const ARCH: Arch = Arch::X86_64;
