// SPDX-License-Identifier: GPL-2.0

//! `cargo xtask test`: every test of the project, host and guest, with one
//! closing line `N passed, N failed`.

use crate::util::{home, info, run_logged, step, Paths, Result, Timer};
use crate::{build_tools, deps, tree, vm};
use std::process::Command;

#[derive(Default)]
struct Tally {
    passed: usize,
    failed: usize,
    lines: Vec<String>,
    /// What failed, in the failing test's own words, repeated after the
    /// summary: a CI log is often read from its end only.
    details: Vec<String>,
}

impl Tally {
    fn add(&mut self, what: &str, passed: usize, failed: usize) {
        self.passed += passed;
        self.failed += failed;
        self.lines
            .push(format!("{what}: {passed} passed, {failed} failed"));
    }

    fn detail(&mut self, line: String) {
        info(&line);
        self.details.push(line);
    }
}

/// Sums `test result: ok. N passed; M failed` lines of cargo test.
fn cargo_counts(out: &str) -> (usize, usize) {
    let mut p = 0;
    let mut f = 0;
    for l in out.lines().filter(|l| l.starts_with("test result:")) {
        let num = |key: &str| {
            l.split(';')
                .find_map(|part| part.trim().strip_suffix(key).map(|n| n.trim().to_string()))
                .and_then(|n| n.rsplit(' ').next().and_then(|n| n.parse::<usize>().ok()))
                .unwrap_or(0)
        };
        p += num(" passed");
        f += num(" failed");
    }
    (p, f)
}

/// The output of the kselftest whose result line is `not_ok`: from its
/// `#  RUN` line on, at most the last `max` lines.
fn ktap_test_output<'a>(out: &'a str, not_ok: &str, max: usize) -> Vec<&'a str> {
    let lines: Vec<&str> = out.lines().collect();
    let Some(end) = lines.iter().position(|l| *l == not_ok) else {
        return Vec::new();
    };
    let start = lines[..end]
        .iter()
        .rposition(|l| l.starts_with("#  RUN "))
        .unwrap_or(end);
    lines[start.max(end.saturating_sub(max))..=end].to_vec()
}

/// Counts the top-level `ok N` / `not ok N` lines of KTAP output.
fn ktap_counts(out: &str) -> (usize, Vec<String>) {
    let mut passed = 0;
    let mut failed = Vec::new();
    for l in out.lines() {
        if l.starts_with("ok ") {
            passed += 1;
        } else if l.starts_with("not ok ") {
            failed.push(l.to_string());
        }
    }
    (passed, failed)
}

fn host_tests(p: &Paths, t: &mut Tally) -> Result {
    step("host tests (cargo test)");
    let log = p.logs().join("host-tests.log");
    let mut out = String::new();
    let status = run_logged(
        Command::new(home().join(".cargo/bin/cargo"))
            .current_dir(&p.repo)
            .args(["test", "--workspace", "--release"]),
        &log,
        |l| {
            if l.starts_with("test result:") || l.contains("FAILED") || l.starts_with("error") {
                info(l);
            }
            out.push_str(l);
            out.push('\n');
        },
    )?;
    let (passed, mut failed) = cargo_counts(&out);
    if !status.success() && failed == 0 {
        failed = 1;
    }
    if failed > 0 {
        t.detail(format!("host tests failed; log: {}", log.display()));
    }
    t.add("host tests", passed, failed);
    Ok(())
}

fn rustfmt(p: &Paths, t: &mut Tally) {
    step("rustfmt --check (host crates and the kernel crate)");
    let cargo_fmt = crate::util::succeeds(
        Command::new(home().join(".cargo/bin/cargo"))
            .current_dir(&p.repo)
            .args(["fmt", "--all", "--", "--check"]),
    );
    let kernel_fmt = crate::util::succeeds(
        Command::new(home().join(".cargo/bin/rustfmt"))
            .current_dir(&p.repo)
            .args(["--check", "--edition", "2021", "rust/checkpoint/lib.rs"]),
    );
    let ok = cargo_fmt && kernel_fmt;
    if !ok {
        t.detail("not rustfmt clean: run `cargo fmt --all` and `rustfmt --edition 2021 rust/checkpoint/lib.rs`".into());
    }
    t.add("rustfmt", usize::from(ok), usize::from(!ok));
}

fn fuzz(p: &Paths, t: &mut Tally) -> Result {
    const SECONDS: u32 = 60;
    step(&format!(
        "fuzzing the image parser for {SECONDS} s (cargo fuzz)"
    ));
    if !deps::have_nightly() {
        info("no nightly toolchain: fuzzing skipped");
        t.lines.push("fuzz: skipped (no nightly toolchain)".into());
        return Ok(());
    }
    let log = p.logs().join("fuzz.log");
    let status = run_logged(
        Command::new(home().join(".cargo/bin/cargo"))
            .current_dir(p.repo.join("rust/checkpoint/format"))
            .args(["+nightly", "fuzz", "run", "parse", "--"])
            .arg(format!("-max_total_time={SECONDS}")),
        &log,
        |l| {
            if l.contains("Done ") || l.contains("panicked") || l.contains("ERROR") {
                info(l);
            }
        },
    )?;
    let ok = status.success();
    if !ok {
        t.detail(format!("fuzzing found a failure; log: {}", log.display()));
    }
    t.add("fuzz (parse)", usize::from(ok), usize::from(!ok));
    Ok(())
}

fn guest_tests(p: &Paths, t: &mut Tally) -> Result {
    let sfx = if p.debug { ", debug kernel" } else { "" };
    // One log per kernel, so that the debug run keeps the other's.
    let log = p.run().join(if p.debug {
        "kselftest-debug.log"
    } else {
        "kselftest.log"
    });
    let leaks = p.run().join("kmemleak.txt");
    let _ = std::fs::remove_file(&leaks);
    // Kmemleak reports objects older than 5 s: wait, then scan twice.
    let cmd = format!(
        "{{ \"$CKPT_SELFTESTS/checkpoint_test\"; \"$CKPT_SELFTESTS/eclone_test\"; }} \
         > '{log}' 2>&1; cat '{log}'; \
         mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug; \
         sleep 6; echo scan > /sys/kernel/debug/kmemleak && \
         echo scan > /sys/kernel/debug/kmemleak && \
         cat /sys/kernel/debug/kmemleak > '{leaks}.tmp' && mv '{leaks}.tmp' '{leaks}'",
        log = log.display(),
        leaks = leaks.display(),
    );
    let timer = Timer::start("guest run");
    // KASAN and lockdep make the debug kernel several times slower.
    let r = vm::run_in_guest(p, &cmd, if p.debug { 4200 } else { 1200 })?;
    timer.done();
    let out = std::fs::read_to_string(&log).unwrap_or_default();
    let (passed, failed) = ktap_counts(&out);
    for f in &failed {
        t.detail(format!("kselftest{sfx}: {f}"));
        for l in ktap_test_output(&out, f, 40) {
            t.detail(format!("| {l}"));
        }
    }
    let mut fails = failed.len();
    if r.status.is_none() || (passed == 0 && fails == 0) {
        t.detail(format!(
            "the kselftests{sfx} did not run to completion; log: {}",
            log.display()
        ));
        fails += 1;
    }
    t.add(&format!("kselftests (guest{sfx})"), passed, fails);

    let (kp, kf) = vm::kunit_results(&r.dmesg, "checkpoint");
    for f in &kf {
        t.detail(format!("KUnit{sfx}: {f}"));
    }
    let missing = usize::from(kp + kf.len() == 0);
    if missing == 1 {
        info("the checkpoint KUnit suite did not run");
    }
    t.add(
        &format!("KUnit checkpoint suite (guest{sfx})"),
        kp,
        kf.len() + missing,
    );

    let problems = vm::kernel_problems(&r.dmesg);
    for l in &problems {
        t.detail(format!("kernel log{sfx}: {l}"));
    }
    let any_kunit_failure = r.dmesg.lines().any(|l| l.contains("not ok "));
    let clean = problems.is_empty() && !any_kunit_failure && !r.dmesg.is_empty();
    if r.dmesg.is_empty() {
        info("no kernel log was captured");
    }
    t.add(
        &format!("guest kernel log clean{sfx}"),
        usize::from(clean),
        usize::from(!clean),
    );

    match std::fs::read_to_string(&leaks) {
        Ok(report) => {
            let n = report.matches("unreferenced object").count();
            if n > 0 {
                info(&format!(
                    "kmemleak: {n} leaked objects; report: {}",
                    leaks.display()
                ));
                for l in report.lines().take(20) {
                    t.detail(format!("kmemleak{sfx}: {l}"));
                }
            }
            t.add(
                &format!("no kernel memory leaks (kmemleak{sfx})"),
                usize::from(n == 0),
                usize::from(n > 0),
            );
        }
        Err(_) => {
            info("no kmemleak report was written");
            t.add(&format!("no kernel memory leaks (kmemleak{sfx})"), 0, 1);
        }
    }
    Ok(())
}

/// Checkpoints two counting programs in one boot and restarts them in a
/// second boot of the same kernel, with the images and the programs' logs
/// kept on the host (the guest's shared run directory): one a subtree, the
/// other the init of a pid namespace, a container, which comes back as the
/// init of a new one.
fn reboot_test(p: &Paths, t: &mut Tally) -> Result {
    let d = p.run();
    for f in [
        "reboot.img",
        "reboot.log",
        "reboot-ckpt.log",
        "reboot-restart.log",
        "reboot-c.img",
        "reboot-c.log",
        "reboot-c-ckpt.log",
        "reboot-c-restart.log",
        "reboot-n.img",
        "reboot-n.log",
        "reboot-n.out",
        "reboot-n-ckpt.log",
        "reboot-n-restart.log",
        "reboot-w.img",
        "reboot-w.log",
        "reboot-w.out",
        "reboot-w-ckpt.log",
        "reboot-w-restart.log",
    ] {
        let _ = std::fs::remove_file(d.join(f));
    }
    // Each program maps its data file privately and shared; the second
    // boot has a fresh /tmp, so the files are made again as they were then.
    let data = |shared: &str| {
        ["reboot", "reboot-c"]
            .map(|f| {
                format!(
                    "{{ printf '{shared}'; head -c 8191 /dev/zero | tr '\\0' F; }} > /tmp/{f}.data"
                )
            })
            .join("; ")
    };
    let first = format!(
        r#"set -e; cd '{d}'; {mk}
wait_log() {{ i=0; until grep -q "$1" "$2"; do i=$((i+1)); [ $i -lt 600 ]; sleep 0.1; done; }}
"$CKPT_SELFTESTS/ckpt_sleeper" ckpt-reboot counter /tmp/reboot.data > reboot.log &
pid=$!
unshare --pid --fork sh -c "exec '$CKPT_SELFTESTS/ckpt_sleeper' ckpt-cont counter /tmp/reboot-c.data > reboot-c.log" &
upid=$!
wait_log 'verified 25' reboot.log
wait_log 'verified 25' reboot-c.log
checkpoint --freeze --kill $pid -o reboot.img -l reboot-ckpt.log
cpid=$(cat /proc/$upid/task/$upid/children)
checkpoint --freeze --kill $cpid -o reboot-c.img -l reboot-c-ckpt.log
# Containers with pid namespaces nested in them, and with 50 workers that
# share their parent's memory copy-on-write.
for m in n:nested w:cow; do
  f=reboot-${{m%%:*}}; : > $f.log
  unshare --pid --fork sh -c "exec '$CKPT_SELFTESTS/ckpt_sleeper' ckpt-$f ${{m#*:}} '{d}/$f.log' > $f.out" &
  upid=$!
  wait_log ready $f.out
  cpid=$(cat /proc/$upid/task/$upid/children)
  checkpoint --freeze --kill $cpid -o $f.img -l $f-ckpt.log
done
"#,
        d = d.display(),
        mk = data("F"),
    );
    let second = format!(
        r#"set -e; cd '{d}'; {mk}
count_on() {{
  n=$(grep -c '^count' "$2"); want=$(( (n / 25 + 1) * 25 ))
  pid=$(restart -i "$1" -d $4 -l "$3")
  i=0; until grep -q "verified $want" "$2"; do
    if grep -q CORRUPT "$2" || [ $i -gt 600 ]; then exit 1; fi
    i=$((i+1)); sleep 0.1
  done
  awk '/^count/ {{ if ($2 != ++n) exit 1 }}' "$2"
  echo "reboot: $1 counted on from $n past $want"
}}
count_on reboot.img reboot.log reboot-restart.log -p
kill $pid
# A container comes back in a new pid namespace of its own, its init pid 1.
count_on reboot-c.img reboot-c.log reboot-c-restart.log
grep "^NSpid:" /proc/$pid/status | grep -q "[[:space:]]1$"
kill -9 $pid
# Each task of these checks itself on SIGUSR1, which their init passes on.
check_back() {{
  pid=$(restart -i $1.img -d -l $1-restart.log)
  kill -USR1 $pid
  i=0; until [ "$(grep -c "$2" $1.log)" = $3 ]; do
    if grep -q FAIL $1.log || [ $i -gt 600 ]; then exit 1; fi
    i=$((i+1)); sleep 0.1
  done
  kill -9 $pid
  echo "reboot: $1 back, $3 of '$2'"
}}
check_back reboot-n 'nested ok' 8
check_back reboot-w 'cow ok' 50
"#,
        d = d.display(),
        mk = data("S"),
    );
    step("restart across a reboot (two boots)");
    let timer = Timer::start("two boots");
    let one = vm::run_script_in_guest(p, "reboot-1.sh", &first, 600)?;
    let two = if one.status == Some(0) {
        Some(vm::run_script_in_guest(p, "reboot-2.sh", &second, 600)?)
    } else {
        info("first boot: the checkpoint failed");
        None
    };
    timer.done();
    let ok = two.as_ref().is_some_and(|r| r.status == Some(0));
    if !ok {
        for f in [
            "reboot-ckpt.log",
            "reboot-restart.log",
            "reboot-c-ckpt.log",
            "reboot-c-restart.log",
            "reboot-n-ckpt.log",
            "reboot-n-restart.log",
            "reboot-w-ckpt.log",
            "reboot-w-restart.log",
        ] {
            let log = std::fs::read_to_string(d.join(f)).unwrap_or_default();
            for l in log.lines() {
                info(&format!("{f}: {l}"));
            }
        }
    }
    if !ok {
        t.detail(format!(
            "restart across a reboot failed; logs: {}/reboot-*.log",
            d.display()
        ));
    }
    for r in [Some(&one), two.as_ref()].into_iter().flatten() {
        for l in vm::kernel_problems(&r.dmesg) {
            t.detail(format!("kernel log, reboot test: {l}"));
        }
    }
    t.add(
        "restart across a reboot: a subtree, containers, nested pid namespaces, shared memory (guest)",
        usize::from(ok),
        usize::from(!ok),
    );
    Ok(())
}

/// Runs everything (`host` false: only the guest tests); returns true if
/// nothing failed.
pub fn test(p: &Paths, host: bool) -> Result<bool> {
    let all = Timer::start("cargo xtask test");
    deps::ensure(true)?;
    let mut t = Tally::default();
    if host {
        host_tests(p, &mut t)?;
        rustfmt(p, &mut t);
        fuzz(p, &mut t)?;
    }
    let built = tree::build(p).and_then(|()| build_tools(p));
    match built {
        Ok(()) => {
            guest_tests(p, &mut t)?;
            reboot_test(p, &mut t)?;
        }
        Err(e) => {
            t.detail(format!("kernel build: {e}"));
            t.add("kernel build", 0, 1);
        }
    }
    // The kselftests once more under KASAN, lockdep and UBSAN, unless this
    // run is already on the debug kernel or CKPT_NO_DEBUG_KERNEL is set.
    if host && !p.debug && std::env::var_os("CKPT_NO_DEBUG_KERNEL").is_none() {
        let mut d = p.clone();
        d.debug = true;
        match tree::build(&d) {
            Ok(()) => guest_tests(&d, &mut t)?,
            Err(e) => {
                t.detail(format!("debug kernel build: {e}"));
                t.add("debug kernel build", 0, 1);
            }
        }
    }
    all.done();
    step("summary");
    for l in &t.lines {
        info(l);
    }
    if !t.details.is_empty() {
        step("what failed");
        for l in &t.details {
            info(l);
        }
    }
    println!("{} passed, {} failed", t.passed, t.failed);
    Ok(t.failed == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KTAP: &str = "\
#  RUN           global.a ...
#            OK  global.a
ok 1 global.a
#  RUN           global.b ...
checkpoint_test.c:10:b:Expected 0 (0) == r (-1)
#            FAIL  global.b
not ok 2 global.b
#  RUN           global.c ...
ok 3 global.c
";

    #[test]
    fn a_failed_kselftest_is_named_with_its_output() {
        let (passed, failed) = ktap_counts(KTAP);
        assert_eq!(passed, 2);
        assert_eq!(failed, ["not ok 2 global.b"]);
        let out = ktap_test_output(KTAP, &failed[0], 40);
        assert_eq!(out.first(), Some(&"#  RUN           global.b ..."));
        assert_eq!(out.len(), 4);
        assert_eq!(ktap_test_output(KTAP, &failed[0], 2).len(), 3);
        assert!(ktap_test_output(KTAP, "not ok 9 x", 40).is_empty());
    }
}
