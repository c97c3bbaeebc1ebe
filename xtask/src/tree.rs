// SPDX-License-Identifier: GPL-2.0

//! The kernel tree: extraction, patch series, overlay files, configuration
//! and build.
//!
//! The repository is an overlay of kernel paths. New files are copied to the
//! same path in the tree, except the root `Kbuild` and `Kconfig`, which are the
//! subsystem's and go to `rust/checkpoint/`, and `MAINTAINERS`, whose entry is
//! inserted into the kernel's. Changes to existing files are the patches in
//! `patches/`. Files are only rewritten when their content changes, so that
//! rebuilds stay incremental.

use crate::util::{
    fnv, git, info, kernel_env, output, run, run_logged, step, write_if_changed, Paths, Result,
    Timer,
};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The kernel version the patch series is made for.
pub const KERNEL_VERSION: &str = "6.12.117";

const TARBALL: &str = "/usr/src/linux-source-6.12.tar.xz";

/// Directories of the repository that are kernel paths.
const OVERLAY_DIRS: &[&str] = &[
    "rust",
    "arch",
    "include",
    "kernel",
    "Documentation",
    "tools/testing/selftests/checkpoint",
];

/// Paths under the overlay directories that belong to the host build only.
const HOST_ONLY: &[&str] = &[
    "rust/checkpoint/format/Cargo.toml",
    "rust/checkpoint/format/tests",
    "rust/checkpoint/format/fuzz",
];

/// Reads `VERSION.PATCHLEVEL.SUBLEVEL` from a kernel Makefile.
pub fn tree_version(src: &Path) -> Result<String> {
    let mk = fs::read_to_string(src.join("Makefile")).map_err(|e| e.to_string())?;
    let field = |name: &str| {
        mk.lines()
            .find_map(|l| {
                l.strip_prefix(name)
                    .map(|v| v.trim_start_matches([' ', '=']).trim())
            })
            .unwrap_or("?")
            .to_string()
    };
    Ok(format!(
        "{}.{}.{}",
        field("VERSION"),
        field("PATCHLEVEL"),
        field("SUBLEVEL")
    ))
}

/// Extracts the kernel source into the cache as a git repository, once.
fn extract(p: &Paths) -> Result {
    let src = p.src();
    if src.join(".git").exists() {
        return Ok(());
    }
    step(&format!("extracting {TARBALL}"));
    let tmp = p.cache.join("extract.tmp");
    let _ = fs::remove_dir_all(&tmp);
    let _ = fs::remove_dir_all(&src);
    fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
    run(Command::new("tar")
        .arg("xf")
        .arg(TARBALL)
        .arg("-C")
        .arg(&tmp))?;
    fs::rename(tmp.join("linux-source-6.12"), &src).map_err(|e| e.to_string())?;
    let _ = fs::remove_dir_all(&tmp);
    info("recording the pristine tree in git (about 30 s)");
    run(git(&src).args(["init", "-q"]))?;
    // Debian's .gitignore ignores the whole top level: add by force.
    run(git(&src).args(["add", "-f", "-A", "."]))?;
    let v = tree_version(&src)?;
    run(git(&src).args([
        "commit",
        "-q",
        "-m",
        &format!("Linux {v} (Debian linux-source-6.12)"),
    ]))?;
    run(git(&src).args(["tag", "pristine"]))?;
    Ok(())
}

fn patch_files(p: &Paths) -> Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = fs::read_dir(p.repo.join("patches"))
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "patch"))
        .collect();
    v.sort();
    Ok(v)
}

/// Applies the patch series if it changed since it was last applied.
fn apply_patches(p: &Paths) -> Result {
    let src = p.src();
    let patches = patch_files(p)?;
    let contents: Vec<Vec<u8>> = patches
        .iter()
        .map(|f| fs::read(f).unwrap_or_default())
        .collect();
    let parts: Vec<&[u8]> = contents.iter().map(|c| c.as_slice()).collect();
    let stamp = fnv(&parts);
    let stamp_file = p.cache.join("patches.stamp");
    if fs::read_to_string(&stamp_file).is_ok_and(|s| s == stamp) {
        return Ok(());
    }
    step(&format!(
        "applying {} patches to Linux {}",
        patches.len(),
        tree_version(&src)?
    ));
    // Undo a previous series: restore only the tracked files it changed.
    let changed = output(git(&src).args(["diff", "--name-only", "pristine"]))?;
    let changed: Vec<&str> = changed.lines().collect();
    if !changed.is_empty() {
        run(git(&src)
            .args(["checkout", "pristine", "--"])
            .args(&changed))?;
    }
    for f in &patches {
        let name = f.file_name().unwrap_or_default().to_string_lossy();
        if output(git(&src).arg("apply").arg("--check").arg(f)).is_err() {
            return Err(format!(
                "patch {name} does not apply to Linux {} (the series is made for {KERNEL_VERSION})",
                tree_version(&src)?
            ));
        }
        run(git(&src).arg("apply").arg(f))?;
        info(&format!("applied {name}"));
    }
    fs::write(&stamp_file, stamp).map_err(|e| e.to_string())
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = rd.filter_map(|e| e.ok()).collect();
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let path = e.path();
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// The overlay: (repository file, path in the kernel tree).
pub fn overlay_files(p: &Paths) -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    for d in OVERLAY_DIRS {
        let mut v = Vec::new();
        walk(&p.repo.join(d), &mut v);
        for f in v {
            let rel = f
                .strip_prefix(&p.repo)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if HOST_ONLY
                .iter()
                .any(|h| rel == *h || rel.starts_with(&format!("{h}/")))
            {
                continue;
            }
            files.push((f, rel));
        }
    }
    files.push((p.repo.join("Kbuild"), "rust/checkpoint/Kbuild".into()));
    files.push((p.repo.join("Kconfig"), "rust/checkpoint/Kconfig".into()));
    files
}

/// Returns the kernel's MAINTAINERS with this subsystem's entry inserted in
/// alphabetical order.
pub fn maintainers_with_entry(kernel: &str, entry: &str) -> Result<String> {
    let entry = entry.trim_end();
    let title = entry.lines().next().ok_or("empty MAINTAINERS entry")?;
    let lines: Vec<&str> = kernel.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with("3C59X NETWORK DRIVER"))
        .ok_or("unexpected MAINTAINERS layout")?;
    // An entry title: a line after a blank one, followed by a "X:\t" field.
    let at = (start..lines.len())
        .find(|&i| {
            lines[i - 1].is_empty()
                && !lines[i].is_empty()
                && lines
                    .get(i + 1)
                    .is_some_and(|n| n.len() > 2 && &n[1..3] == ":\t")
                && lines[i] > title
        })
        .ok_or("no place for the MAINTAINERS entry")?;
    let mut out: Vec<&str> = lines[..at].to_vec();
    out.extend(entry.lines());
    out.push("");
    out.extend(&lines[at..]);
    Ok(out.join("\n") + "\n")
}

/// Copies the overlay into the tree; removes files it installed before and no
/// longer has.
fn install_overlay(p: &Paths) -> Result {
    let src = p.src();
    let files = overlay_files(p);
    let mut changed = 0;
    for (from, to) in &files {
        let data = fs::read(from).map_err(|e| format!("{}: {e}", from.display()))?;
        if write_if_changed(&src.join(to), &data)? {
            changed += 1;
        }
    }
    let manifest = p.cache.join("overlay.manifest");
    let new: Vec<&str> = files.iter().map(|(_, t)| t.as_str()).collect();
    if let Ok(old) = fs::read_to_string(&manifest) {
        for stale in old.lines().filter(|l| !new.contains(l)) {
            let _ = fs::remove_file(src.join(stale));
            info(&format!("removed {stale}"));
        }
    }
    fs::write(&manifest, new.join("\n")).map_err(|e| e.to_string())?;

    let pristine = output(git(&src).args(["show", "pristine:MAINTAINERS"]))?;
    let entry = fs::read_to_string(p.repo.join("MAINTAINERS")).map_err(|e| e.to_string())?;
    if write_if_changed(
        &src.join("MAINTAINERS"),
        maintainers_with_entry(&pristine, &entry)?.as_bytes(),
    )? {
        changed += 1;
    }
    info(&format!(
        "overlay: {} files, {changed} updated",
        files.len() + 1
    ));
    Ok(())
}

/// Prepares the source tree: extracted, patched, overlay installed.
pub fn prepare(p: &Paths) -> Result {
    fs::create_dir_all(&p.cache).map_err(|e| e.to_string())?;
    extract(p)?;
    let v = tree_version(&p.src())?;
    if v != KERNEL_VERSION {
        info(&format!(
            "warning: Debian's linux-source-6.12 is now Linux {v}; the series is made for {KERNEL_VERSION}"
        ));
    }
    apply_patches(p)?;
    install_overlay(p)
}

fn make(p: &Paths) -> Command {
    let mut c = Command::new("make");
    c.arg("-C")
        .arg(p.src())
        .arg(format!("O={}", p.build().display()))
        .arg("LLVM=-19");
    kernel_env(&mut c);
    c
}

/// Writes `.config`: tinyconfig plus the fragment, when the fragment changed.
fn configure(p: &Paths) -> Result {
    let mut frags = vec![p.src().join("kernel/configs/checkpoint.config")];
    if p.debug {
        frags.push(p.src().join("kernel/configs/checkpoint-debug.config"));
    }
    let mut text = String::new();
    for f in &frags {
        text += &fs::read_to_string(f).map_err(|e| e.to_string())?;
    }
    let stamp = fnv(&[text.as_bytes()]);
    let stamp_file = p.build().join("config.stamp");
    let config = p.build().join(".config");
    if config.exists() && fs::read_to_string(&stamp_file).is_ok_and(|s| s == stamp) {
        return Ok(());
    }
    step(&format!(
        "configuring the kernel (tinyconfig + {})",
        frags
            .iter()
            .filter_map(|f| f.strip_prefix(p.src()).ok())
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(" + ")
    ));
    fs::create_dir_all(p.build()).map_err(|e| e.to_string())?;
    run(make(p)
        .args(["-s", "tinyconfig"])
        .stdout(std::process::Stdio::null()))?;
    let mut merge = Command::new(p.src().join("scripts/kconfig/merge_config.sh"));
    merge
        .current_dir(p.src())
        .arg("-m")
        .arg("-O")
        .arg(p.build())
        .arg(&config)
        .args(&frags)
        .stdout(std::process::Stdio::null());
    kernel_env(&mut merge);
    run(&mut merge)?;
    run(make(p).args(["-s", "olddefconfig"]))?;
    let got = fs::read_to_string(&config).map_err(|e| e.to_string())?;
    let missing: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("CONFIG_"))
        .filter(|l| !got.lines().any(|g| g == *l))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "the kernel config lacks options of the fragment (unmet dependencies?): {}",
            missing.join(" ")
        ));
    }
    fs::write(&stamp_file, stamp).map_err(|e| e.to_string())
}

/// Prepares, configures and builds the kernel.
pub fn build(p: &Paths) -> Result {
    prepare(p)?;
    configure(p)?;
    step(&format!("building the kernel in {}", p.build().display()));
    let t = Timer::start("kernel build");
    let jobs = std::thread::available_parallelism().map_or(2, |n| n.get()) + 1;
    let log = p.logs().join("kernel-build.log");
    let mut n = 0usize;
    let mut cmd = make(p);
    cmd.arg(format!("-j{jobs}"));
    let status = run_logged(&mut cmd, &log, |line| {
        let is_step = line.starts_with("  ") && line.len() > 10;
        if is_step {
            n += 1;
            if n.is_multiple_of(200) {
                info(&format!("{n} build steps ({})", line.trim()));
            }
        } else if line.starts_with("error") || line.contains(": error") || line.contains("] Error ")
        {
            println!("    {line}");
        }
    })?;
    t.done();
    if !status.success() {
        let text = fs::read_to_string(&log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(40).collect();
        for l in tail.iter().rev() {
            println!("    | {l}");
        }
        return Err(format!("kernel build failed; full log: {}", log.display()));
    }
    info(&format!(
        "{n} build steps; kernel at {}",
        p.bzimage().display()
    ));
    Ok(())
}
