// SPDX-License-Identifier: GPL-2.0

//! `cargo xtask export`: the whole change as a `git format-patch` series
//! against the pristine tree, checked with `git am` on a fresh checkout.
//!
//! Order keeps every step buildable: the new files first (nothing builds them
//! yet), then the patches to existing files, the last of which hooks the
//! subsystem into the build; then the tests and the documentation.

use crate::tree::{self, maintainers_with_entry, overlay_files, tree_version};
use crate::util::{git, info, output, run, step, Paths, Result};
use std::fs;
use std::path::Path;

const AUTHOR: &str = "Linux checkpoint/restart developers <dev@linux-cr-rs.invalid>";

/// Groups of new files, each one commit: (path prefixes, subject, body).
const GROUPS: &[(&[&str], &str, &str)] = &[
    (
        &["rust/checkpoint/format/"],
        "checkpoint: add the image format crate",
        "The checkpoint image is a stream of ckpt_hdr records. This crate defines\n\
         the records, their little-endian encoding and the rules of the stream, in\n\
         plain core Rust, so that the kernel and the user tools share one parser.\n\
         Also the MAINTAINERS entry of the subsystem.",
    ),
    (
        &[
            "rust/checkpoint/",
            "rust/helpers/checkpoint.c",
            "include/",
            "arch/x86/kernel/checkpoint",
        ],
        "checkpoint: add the Rust core of checkpoint(2) and restart(2)",
        "The context, object hash and deferqueue, the task and credential\n\
         checkpoint/restore pairs, a thin layer of safe abstractions over the C\n\
         structures, the C syscall entry points, and a KUnit suite. Not built until\n\
         the Kbuild hook.",
    ),
];

const LATE_GROUPS: &[(&[&str], &str, &str)] = &[
    (
        &["tools/testing/selftests/checkpoint/"],
        "selftests: checkpoint: add tests of checkpoint(2) and restart(2)",
        "Argument and permission checks, the image of a child as decoded by\n\
         ckptinfo, streams through pipes, error records, and refusal of corrupted\n\
         images.",
    ),
    (
        &["Documentation/checkpoint/", "kernel/configs/"],
        "Documentation: checkpoint: design, image format and usage",
        "Also the kernel config fragment of the test guest.",
    ),
];

fn commit_group(
    dir: &Path,
    files: &[(std::path::PathBuf, String)],
    g: &(&[&str], &str, &str),
) -> Result {
    let mut any = false;
    for (from, to) in files {
        if g.0.iter().any(|pre| to.starts_with(pre)) && !dir.join(to).exists() {
            let data = fs::read(from).map_err(|e| e.to_string())?;
            let dst = dir.join(to);
            fs::create_dir_all(dst.parent().unwrap()).map_err(|e| e.to_string())?;
            fs::write(&dst, data).map_err(|e| e.to_string())?;
            run(git(dir).args(["add", "-f", "--"]).arg(to))?;
            any = true;
        }
    }
    // A group may also commit files staged by the caller.
    let staged = !crate::util::succeeds(git(dir).args(["diff", "--cached", "--quiet"]));
    if any || staged {
        run(git(dir).args(["commit", "-q", "--author", AUTHOR, "-m", g.1, "-m", g.2]))?;
    }
    Ok(())
}

/// Removes the scratch checkouts of a previous or current export.
fn remove_worktrees(src: &Path, dirs: &[&Path]) {
    for w in dirs {
        let _ = git(src)
            .args(["worktree", "remove", "--force"])
            .arg(w)
            .output();
        let _ = fs::remove_dir_all(w);
    }
    let _ = git(src).args(["worktree", "prune"]).output();
}

/// Writes the series into `out` (default: `<cache>/export`) and checks it.
pub fn export(p: &Paths, out: Option<&str>) -> Result {
    tree::prepare(p)?;
    let src = p.src();
    let work = p.cache.join("export-work");
    let check = p.cache.join("export-check");
    let out = out.map_or_else(|| p.cache.join("export"), std::path::PathBuf::from);
    remove_worktrees(&src, &[&work, &check]);
    step("writing the series on a pristine checkout");
    run(git(&src)
        .args(["worktree", "add", "-q", "--detach"])
        .arg(&work)
        .arg("pristine"))?;

    let files = overlay_files(p);
    // The MAINTAINERS entry comes with the first new files.
    let pristine = output(git(&src).args(["show", "pristine:MAINTAINERS"]))?;
    let entry = fs::read_to_string(p.repo.join("MAINTAINERS")).map_err(|e| e.to_string())?;
    fs::write(
        work.join("MAINTAINERS"),
        maintainers_with_entry(&pristine, &entry)?,
    )
    .map_err(|e| e.to_string())?;
    run(git(&work).args(["add", "MAINTAINERS"]))?;
    for g in GROUPS {
        commit_group(&work, &files, g)?;
    }
    let mut patches: Vec<_> = fs::read_dir(p.repo.join("patches"))
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|f| f.extension().is_some_and(|x| x == "patch"))
        .collect();
    patches.sort();
    run(git(&work).args(["am", "-q"]).args(&patches))?;
    for g in LATE_GROUPS {
        commit_group(&work, &files, g)?;
    }

    let _ = fs::remove_dir_all(&out);
    let list = output(
        git(&work)
            .args(["format-patch", "--no-signature", "--zero-commit", "-o"])
            .arg(&out)
            .arg("pristine..HEAD"),
    )?;
    let series: Vec<&str> = list.lines().collect();
    for s in &series {
        info(s);
    }

    step(&format!(
        "checking that the series applies to pristine Linux {}",
        tree_version(&src)?
    ));
    run(git(&src)
        .args(["worktree", "add", "-q", "--detach"])
        .arg(&check)
        .arg("pristine"))?;
    let applied = run(git(&check).args(["am", "-q"]).args(&series));
    let same = applied.is_ok()
        && output(
            git(&check)
                .args(["diff", "--stat", "HEAD"])
                .arg(output(git(&work).args(["rev-parse", "HEAD"]))?.trim()),
        )
        .is_ok_and(|d| d.trim().is_empty());
    remove_worktrees(&src, &[&work, &check]);
    applied?;
    if !same {
        return Err("the applied series differs from the tree it was made from".into());
    }
    info(&format!(
        "{} patches in {}; git am applies them cleanly",
        series.len(),
        out.display()
    ));
    Ok(())
}
