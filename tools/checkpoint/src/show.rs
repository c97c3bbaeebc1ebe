// SPDX-License-Identifier: GPL-2.0

//! Display of records, as text and as JSON.

use crate::{errno_name, json};
use ckpt_format::{
    stream::Item, ArchRecord, CpuX86_64, CredRecord, Record, RestartKind, TaskRecord,
};

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Real, effective, saved and fs ids as `r/e/s/fs`.
fn ids(v: &[u32; 4]) -> String {
    v.map(|i| i.to_string()).join("/")
}

fn restart_kind(k: RestartKind) -> &'static str {
    match k {
        RestartKind::Nanosleep => "nanosleep",
        RestartKind::FutexWait => "futex_wait",
    }
}

/// One line of text for a record.
pub fn line(item: &Item<'_>) -> String {
    let what = match item.record {
        Record::Header(h) => format!(
            "version {} arch {} page_size {} ckpt_id {} time {} release \"{}\" machine \"{}\"",
            h.version,
            h.arch.name(),
            h.page_size,
            h.ckpt_id,
            h.time,
            text(h.release),
            text(h.machine)
        ),
        Record::Task(t) => format!(
            "pid {} tgid {} ppid {} cred {} comm \"{}\" oom_score_adj {}{} robust_list {:#x}",
            t.pid,
            t.tgid,
            t.ppid,
            t.cred_ref,
            text(t.comm),
            t.oom_score_adj,
            if t.flags & TaskRecord::NO_NEW_PRIVS != 0 {
                " no_new_privs"
            } else {
                ""
            },
            t.robust_list
        ),
        Record::Cred(c) => format!(
            "objref {} uid {} gid {} groups {} securebits {:#x} caps {}",
            c.objref,
            ids(&c.uids),
            ids(&c.gids),
            c.groups
                .iter()
                .map(|g| g.to_string())
                .collect::<Vec<_>>()
                .join(","),
            c.securebits,
            c.caps
                .iter()
                .map(|v| format!("{v:#x}"))
                .collect::<Vec<_>>()
                .join("/")
        ),
        Record::Arch(ArchRecord::X86_64Cpu(c)) => format!(
            "ip {:#x} sp {:#x} ax {:#x} orig_ax {} flags {:#x} fs_base {:#x}",
            c.get("ip").unwrap_or(0),
            c.get("sp").unwrap_or(0),
            c.get("ax").unwrap_or(0),
            c.get("orig_ax").unwrap_or(0) as i64,
            c.get("flags").unwrap_or(0),
            c.get("fs_base").unwrap_or(0)
        ),
        Record::Arch(ArchRecord::X86Xstate(x)) => {
            format!("{} bytes, components {:#x}", x.area.len(), x.xfeatures())
        }
        Record::Signals(g) => {
            let [nofile_cur, nofile_max] = g.rlimits.get(7).unwrap_or_default();
            format!(
            "blocked {:#x} altstack {:#x}+{:#x} umask {:03o} nofile {}/{} rseq {:#x} itimer_real {}/{} ns pending [{}]",
            g.blocked,
            g.altstack[0],
            g.altstack[1],
            g.umask,
            nofile_cur,
            nofile_max,
            g.rseq,
            g.itimer_real[0],
            g.itimer_real[1],
            g.pending_signals()
                .map(|p| format!("{}{}", p.signo, if p.shared { "s" } else { "" }))
                .collect::<Vec<_>>()
                .join(" ")
        )
        }
        Record::Fs(f) => format!("root {} cwd {}", text(f.root), text(f.cwd)),
        Record::RestartBlock(r) => format!(
            "{} clock {} remaining {} ns addr {:#x}",
            restart_kind(r.kind),
            r.clockid,
            r.remaining_ns,
            r.addr
        ),
        Record::File(f) => format!(
            "objref {} {} flags {:#o} mode {:#o} pos {} {}",
            f.objref,
            f.kind.name(),
            f.flags,
            f.mode,
            f.pos,
            text(f.path)
        ),
        Record::Fd(f) => format!(
            "fd {} objref {}{}",
            f.fd,
            f.objref,
            if f.cloexec { " cloexec" } else { "" }
        ),
        Record::Mm(m) => {
            let l = &m.layout;
            format!(
                "code {:#x}-{:#x} data {:#x}-{:#x} brk {:#x}-{:#x} stack {:#x} exe {} auxv {} words",
                l[0],
                l[1],
                l[2],
                l[3],
                l[4],
                l[5],
                l[6],
                m.exe_ref,
                m.auxv.len()
            )
        }
        Record::Vma(v) => format!(
            "{:#x}-{:#x} {} {} pgoff {:#x} file {}",
            v.start,
            v.end,
            text(&v.prot()),
            v.kind.name(),
            v.pgoff,
            v.file_ref
        ),
        Record::Pages(p) => {
            let mut addrs = p.pages().map(|(a, _)| a);
            let first = addrs.next().unwrap_or(0);
            let last = addrs.last().unwrap_or(first);
            format!("{} pages {first:#x}..{last:#x}", p.count())
        }
        Record::Tail(_) => String::new(),
        Record::Error(e) => format!(
            "{} objref {}: {}",
            errno_name(e.errno),
            e.objref,
            text(e.msg)
        ),
    };
    format!(
        "{:>8}  {:<6} {:>4}  {}",
        item.offset,
        item.record.ty().name(),
        item.header.len,
        what
    )
}

/// A JSON object for a record.
pub fn json(item: &Item<'_>) -> String {
    let o = json::Object::default()
        .str("type", item.record.ty().name().as_bytes())
        .raw("offset", item.offset)
        .raw("len", item.header.len);
    let o = match item.record {
        Record::Header(h) => o
            .raw("version", h.version)
            .raw("flags", h.flags)
            .str("arch", h.arch.name().as_bytes())
            .raw("page_size", h.page_size)
            .raw("ckpt_id", h.ckpt_id)
            .raw("time", h.time)
            .str("release", h.release)
            .str("kernel_version", h.version_str)
            .str("machine", h.machine),
        Record::Task(t) => o
            .raw("pid", t.pid)
            .raw("tgid", t.tgid)
            .raw("ppid", t.ppid)
            .raw("cred_ref", t.cred_ref)
            .str("comm", t.comm)
            .raw("oom_score_adj", t.oom_score_adj)
            .raw("no_new_privs", t.flags & TaskRecord::NO_NEW_PRIVS != 0)
            .raw("robust_list", t.robust_list)
            .raw("robust_list_len", t.robust_list_len),
        Record::Cred(c) => o
            .raw("objref", c.objref)
            .raw("uids", json::array(c.uids.iter().map(u32::to_string)))
            .raw("gids", json::array(c.gids.iter().map(u32::to_string)))
            .raw(
                "groups",
                json::array(c.groups.iter().map(|g| g.to_string())),
            )
            .raw("securebits", c.securebits)
            .fields(&CredRecord::CAP_SETS, &c.caps),
        Record::Arch(ArchRecord::X86_64Cpu(c)) => o.fields(&CpuX86_64::NAMES, &c.regs),
        Record::Arch(ArchRecord::X86Xstate(x)) => o
            .raw("size", x.area.len())
            .raw("xfeatures", x.xfeatures())
            .raw(
                "xmm",
                json::array(
                    (0..16)
                        .filter_map(|i| x.xmm(i))
                        .map(|b| json::string(hex(b).as_bytes())),
                ),
            ),
        Record::Fs(f) => o.str("root", f.root).str("cwd", f.cwd),
        Record::Signals(g) => o
            .raw(
                "itimer_real",
                json::array(g.itimer_real.iter().map(u64::to_string)),
            )
            .raw(
                "pending",
                json::array(g.pending_signals().map(|p| p.signo.to_string())),
            )
            .raw("blocked", g.blocked)
            .raw("altstack_sp", g.altstack[0])
            .raw("altstack_size", g.altstack[1])
            .raw("altstack_flags", g.altstack_flags)
            .raw("umask", g.umask)
            .raw("rseq", g.rseq)
            .raw(
                "rlimits",
                json::array(
                    g.rlimits
                        .iter()
                        .map(|l| json::array(l.iter().map(u64::to_string))),
                ),
            )
            .raw(
                "actions",
                json::array(
                    g.actions
                        .iter()
                        .map(|a| json::array(a.iter().map(u64::to_string))),
                ),
            ),
        Record::RestartBlock(r) => o
            .str("kind", restart_kind(r.kind).as_bytes())
            .raw("clockid", r.clockid)
            .raw("remaining_ns", r.remaining_ns)
            .raw("addr", r.addr)
            .raw("rmtp_type", r.rmtp_type)
            .raw("futex_val", r.futex_val)
            .raw("futex_bitset", r.futex_bitset)
            .raw("futex_shared", r.futex_shared),
        Record::File(f) => o
            .raw("objref", f.objref)
            .str("kind", f.kind.name().as_bytes())
            .raw("flags", f.flags)
            .raw("mode", f.mode)
            .raw("rdev", f.rdev)
            .raw("pos", f.pos)
            .str("path", f.path),
        Record::Fd(f) => o
            .raw("fd", f.fd)
            .raw("objref", f.objref)
            .raw("cloexec", f.cloexec),
        Record::Mm(m) => o
            .fields(&ckpt_format::MmRecord::LAYOUT_NAMES, &m.layout)
            .raw("flags", m.flags)
            .raw("def_flags", m.def_flags)
            .raw("exe_ref", m.exe_ref)
            .raw("auxv", json::array(m.auxv.iter().map(|w| w.to_string()))),
        Record::Vma(v) => o
            .raw("start", v.start)
            .raw("end", v.end)
            .raw("flags", v.flags)
            .str("prot", &v.prot())
            .str("kind", v.kind.name().as_bytes())
            .raw("pgoff", v.pgoff)
            .raw("file", v.file_ref),
        Record::Pages(p) => o
            .raw("count", p.count())
            .raw("page_size", p.page_size)
            .raw("addrs", json::array(p.pages().map(|(a, _)| a.to_string()))),
        Record::Tail(_) => o,
        Record::Error(e) => o
            .raw("errno", e.errno)
            .str("errno_name", errno_name(e.errno).as_bytes())
            .raw("objref", e.objref)
            .str("message", e.msg),
    };
    o.finish()
}
