// SPDX-License-Identifier: GPL-2.0

//! `cargo xtask`: build, boot and test Linux checkpoint/restart.

mod deps;
mod export;
mod test;
mod tree;
mod util;
mod vm;

use std::process::{Command, ExitCode};
use util::{info, kernel_env, run, step, Paths, Result};

const USAGE: &str = "\
usage: cargo xtask COMMAND

  demo              build and boot the kernel; in the guest, checkpoint a
                    counting program, kill it, and restart it
  test              host tests, fuzzing, kernel build, boot and kselftests;
                    ends with `N passed, N failed`
  guest             only the kernel build, boot and guest tests
  vm [--] CMD...    boot the kernel and run CMD in the guest (this repository
                    at the same path, the tools on PATH); exits with its status
  bench [trees]     checkpoint/restart against CRIU and memcpy in one boot;
                    the table goes to bench/results.txt (with `trees`, only
                    the trees are measured, and the table is not kept)
  kernel            (re)build the kernel only
  tools             build the user tools and the kselftests
  export [DIR]      write the whole change as a git format-patch series against
                    pristine Linux, and check that it applies with git am
  clippy            build the Rust core with CLIPPY=1
  deps              install what is missing (Debian packages, bindgen, virtme-ng)

  --debug-kernel    (with test, guest, vm, kernel) use a kernel built with
                    KASAN, lockdep, UBSAN and the other checks of
                    kernel/configs/checkpoint-debug.config, in its own build
                    tree; much slower to build and to run

The kernel tree and build live in $CKPT_CACHE, else $XDG_CACHE_HOME/linux-cr-rs,
else ~/.cache/linux-cr-rs.";

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut p = Paths::new();
    if let Some(i) = args.iter().position(|a| a == "--debug-kernel") {
        args.remove(i);
        p.debug = true;
    }
    let r = match args.first().map(String::as_str) {
        Some("demo") => demo(&p),
        Some("test") => test::test(&p, true).map(|ok| if ok { 0 } else { 1 }),
        Some("guest") => test::test(&p, false).map(|ok| if ok { 0 } else { 1 }),
        Some("vm") => vm(&p, &args[1..]),
        Some("kernel") => deps::ensure(false)
            .and_then(|()| tree::build(&p))
            .map(|()| 0),
        Some("tools") => build_tools(&p).map(|()| 0),
        Some("export") => export::export(&p, args.get(1).map(String::as_str)).map(|()| 0),
        Some("clippy") => clippy(&p),
        Some("bench") => bench(&p, args.get(1).is_some_and(|a| a == "trees")),
        Some("deps") => deps::ensure(true).map(|()| 0),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(0)
        }
        _ => {
            eprintln!("{USAGE}");
            Ok(2)
        }
    };
    match r {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Builds the static user tools and the kselftests (against the tree).
pub fn build_tools(p: &Paths) -> Result {
    step("building the user tools (static)");
    run(Command::new(util::home().join(".cargo/bin/cargo"))
        .current_dir(&p.repo)
        .args([
            "build",
            "--quiet",
            "--release",
            "--package",
            "ckpt-tools",
            "--target",
            &util::tools_target(),
        ])
        .env("RUSTFLAGS", "-C target-feature=+crt-static"))?;
    info(&format!("tools in {}", p.tools().display()));
    tree::prepare(p)?;
    step("building the kselftests");
    std::fs::create_dir_all(p.selftests()).map_err(|e| e.to_string())?;
    run(Command::new("make")
        .arg("-s")
        .arg("-C")
        .arg(p.src().join("tools/testing/selftests/checkpoint"))
        .arg(format!("OUTPUT={}", p.selftests().display())))?;
    Ok(())
}

fn prepare_all(p: &Paths) -> Result {
    deps::ensure(false)?;
    tree::build(p)?;
    build_tools(p)
}

fn vm(p: &Paths, args: &[String]) -> Result<u8> {
    let args = match args.first().map(String::as_str) {
        Some("--") => &args[1..],
        _ => args,
    };
    if args.is_empty() {
        return Err("vm needs a command, e.g. `cargo xtask vm -- ckptinfo --help`".into());
    }
    prepare_all(p)?;
    let cmd = args.join(" ");
    let r = vm::run_in_guest(p, &cmd, 1800)?;
    let problems = vm::kernel_problems(&r.dmesg);
    for l in &problems {
        eprintln!("xtask: kernel log: {l}");
    }
    match r.status {
        Some(c) => Ok(u8::try_from(c).unwrap_or(1)),
        None => Err("the guest did not finish".into()),
    }
}

/// Runs the benchmark against CRIU in one guest boot; keeps the table in
/// bench/results.txt.
fn bench(p: &Paths, trees_only: bool) -> Result<u8> {
    prepare_all(p)?;
    let out = p.run().join("bench.txt");
    let _ = std::fs::remove_file(&out);
    let cmd = format!(
        "{} {}{}",
        p.selftests().join("ckpt_bench").display(),
        out.display(),
        if trees_only { " trees" } else { "" }
    );
    // The test kernel tracks every allocation for kmemleak; a benchmark
    // measures the kernel without that (the same for both sides). The
    // 1 GiB task, its image, its restored copy and CRIU's images need room.
    let r = vm::run_in_guest_with(p, &cmd, 3600, &["kmemleak=off"], "6G")?;
    for l in vm::kernel_problems(&r.dmesg) {
        eprintln!("xtask: kernel log: {l}");
    }
    let table = std::fs::read_to_string(&out).map_err(|e| format!("no benchmark table: {e}"))?;
    if trees_only {
        print!("{table}");
        return Ok(if r.status == Some(0) { 0 } else { 1 });
    }
    let keep = p.repo.join("bench/results.txt");
    std::fs::create_dir_all(p.repo.join("bench")).map_err(|e| e.to_string())?;
    std::fs::write(&keep, &table).map_err(|e| e.to_string())?;
    step(&format!("benchmark table kept in {}", keep.display()));
    Ok(if r.status == Some(0) { 0 } else { 1 })
}

fn demo(p: &Paths) -> Result<u8> {
    prepare_all(p)?;
    let script = "\
set -e
exec 2>&1
cd /tmp
head -c 8192 /dev/zero | tr '\\0' F > data
\"$CKPT_SELFTESTS/ckpt_sleeper\" counter counter data > count.log &
pid=$!
sleep 3
echo \"guest: a counting program (pid $pid, 64 MiB of memory) is at: $(tail -1 count.log)\"
echo \"guest: checkpoint $pid, not frozen: refused\"
checkpoint $pid -o demo.ckpt || true
echo \"guest: checkpoint --freeze --kill $pid: frozen by the cgroup v2 freezer, saved, killed\"
checkpoint --freeze --kill $pid -o demo.ckpt -l demo.log
sed 's/^/    /' demo.log
sleep 1
echo \"guest: after the kill, its log still ends at: $(tail -1 count.log)\"
echo 'guest: ckptinfo demo.ckpt (all but the pages)'
ckptinfo demo.ckpt | grep -v ' pages ' | sed 's/^/    /'
echo 'guest: restart -i demo.ckpt --detach'
new=$(restart -i demo.ckpt --detach -l restart.log)
sed 's/^/    /' restart.log
sleep 3
echo \"guest: the restarted program (pid $new) counts on: $(tail -1 count.log)\"
echo \"guest: and checked its memory, mappings, stack and signals: $(grep verified count.log | tail -1)\"
grep -q CORRUPT count.log && exit 1
kill $new
echo 'guest: a tree of 10 processes, 4 levels deep, each with its own memory'
: > tree.log
\"$CKPT_SELFTESTS/ckpt_sleeper\" tree tree tree.log > tree.ready &
root=$!
while ! grep -q ready tree.ready; do sleep 0.1; done
ps -e -o pid,ppid,comm | grep -w tree | sed 's/^/    /'
echo \"guest: checkpoint --freeze --kill $root: the root and its descendants\"
checkpoint --freeze --kill $root -o tree.ckpt
ckptinfo tree.ckpt | grep ' tree ' | sed 's/^/    /'
sleep 1
echo 'guest: restart -i tree.ckpt --detach: the tree comes back with its pids'
restart -i tree.ckpt --detach -l tree-restart.log
tail -1 tree-restart.log | sed 's/^/    /'
ps -e -o pid,ppid,comm | grep -w tree | sed 's/^/    /'
for p in $(awk '/^ready/ {print $3}' tree.log); do kill -USR1 $p; done
sleep 2
echo \"guest: each task checked its pid, parent and memory: $(grep -c '^ok' tree.log) ok, $(grep -c FAIL tree.log) failed; $(grep reaped tree.log)\"
grep -q FAIL tree.log && exit 1
for p in $(awk '/^ready/ {print $3}' tree.log); do kill $p 2>/dev/null || true; done
echo 'guest: a thread pool: 9 threads, blocked in condition waits, a mutex, a join, a sleep and futex waits'
: > threads.log
\"$CKPT_SELFTESTS/ckpt_sleeper\" threads threads threads.log > threads.ready &
pid=$!
while ! grep -q ready threads.ready; do sleep 0.1; done
echo \"guest: the threads of $pid: $(ls /proc/$pid/task | tr '\\n' ' ')\"
checkpoint --freeze --kill $pid -o threads.ckpt
sleep 1
restart -i threads.ckpt --detach -l threads-restart.log > /dev/null
echo \"guest: restarted, the threads of $pid: $(ls /proc/$pid/task | tr '\\n' ' ')\"
kill -USR1 $pid
for i in $(seq 200); do grep -q threads threads.log && break; sleep 0.1; done
echo \"guest: each resumed its call and checked its registers and TLS: $(cat threads.log)\"
grep -q 'threads ok' threads.log || exit 1
";
    let r = vm::run_script_in_guest(p, "demo.sh", script, 900)?;
    let problems = vm::kernel_problems(&r.dmesg);
    for l in &problems {
        eprintln!("xtask: kernel log: {l}");
    }
    match r.status {
        Some(0) if problems.is_empty() => Ok(0),
        _ => Err("the demo failed".into()),
    }
}

fn clippy(p: &Paths) -> Result<u8> {
    deps::ensure(false)?;
    tree::build(p)?;
    step("clippy on the Rust core (CLIPPY=1)");
    let mut c = Command::new("make");
    c.arg("-C")
        .arg(p.src())
        .arg(format!("O={}", p.build().display()))
        .args(["LLVM=-19", "CLIPPY=1", "-j3", "rust/"]);
    kernel_env(&mut c);
    run(&mut c)?;
    Ok(0)
}
