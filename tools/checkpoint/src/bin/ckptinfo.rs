// SPDX-License-Identifier: GPL-2.0

//! ckptinfo: decode and validate a checkpoint image.

use ckpt_format::stream::{validate, ObjMap};
use ckpt_tools::{json, show, Args};
use std::io::Read;

const USAGE: &str = "\
usage: ckptinfo [FILE] [--json | --page ADDR]

Decodes and validates a checkpoint image (standard input without FILE, or
with -), and shows each record: offset, type, length and fields.

  --json       one JSON object: {\"valid\", \"length\", \"records\", \"error\"}
  --page ADDR  write the saved contents of the page at ADDR (0x... or
               decimal) to standard output; exit status 1 if it is not saved
  -h, --help   this text

Exit status: 0 for a valid image, 1 for an invalid or incomplete one (the
first problem is shown with its offset), 2 for usage or I/O errors.";

fn main() {
    let mut args = Args::from_env();
    if args.flag("--help", "-h") {
        println!("{USAGE}");
        return;
    }
    let as_json = args.flag("--json", "--json");
    let page = args.value("--page", "--page", USAGE).map(|a| {
        let n = match a.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16),
            None => a.parse(),
        };
        n.unwrap_or_else(|_| ckpt_tools::usage_error(&format!("bad address {a}"), USAGE))
    });
    let ops = args.operands(USAGE);
    let mut data = Vec::new();
    let read = match ops.as_slice() {
        [] => std::io::stdin().read_to_end(&mut data),
        [p] if p == "-" => std::io::stdin().read_to_end(&mut data),
        [p] => std::fs::File::open(p).and_then(|mut f| f.read_to_end(&mut data)),
        _ => ckpt_tools::usage_error("too many operands", USAGE),
    };
    if let Err(e) = read {
        eprintln!("ckptinfo: {e}");
        std::process::exit(2);
    }

    let mut lines = Vec::new();
    let mut found: Option<Vec<u8>> = None;
    let result = validate(&data, &mut ObjMap::default(), |item| {
        if let (Some(want), ckpt_format::Record::Pages(p)) = (page, &item.record) {
            if let Some((_, bytes)) = p.pages().find(|(a, _)| *a == want) {
                found = Some(bytes.to_vec());
            }
        }
        lines.push(if as_json {
            show::json(item)
        } else {
            show::line(item)
        })
    });
    if let Some(addr) = page {
        use std::io::Write;
        match (&result, found) {
            (Ok(_), Some(bytes)) => {
                let _ = std::io::stdout().write_all(&bytes);
                return;
            }
            (Ok(_), None) => eprintln!("ckptinfo: no saved page at {addr:#x}"),
            (Err((off, e)), _) => eprintln!("ckptinfo: invalid image at offset {off}: {e}"),
        }
        std::process::exit(1);
    }
    if as_json {
        let (length, error) = match result {
            Ok(n) => (n.to_string(), "null".to_string()),
            Err((off, e)) => (
                "null".to_string(),
                json::Object::default()
                    .raw("offset", off)
                    .str("message", e.to_string().as_bytes())
                    .finish(),
            ),
        };
        println!(
            "{}",
            json::Object::default()
                .raw("valid", result.is_ok())
                .raw("length", length)
                .raw("records", format!("[{}]", lines.join(", ")))
                .raw("error", error)
                .finish()
        );
    } else {
        println!("  offset  type    len  fields");
        for l in &lines {
            println!("{l}");
        }
        match result {
            Ok(n) => println!("valid image: {} records, {n} bytes", lines.len()),
            Err((off, e)) => println!("invalid image at offset {off}: {e}"),
        }
    }
    if result.is_err() {
        std::process::exit(1);
    }
}
