// SPDX-License-Identifier: GPL-2.0

//! ckptinfo: decode and validate a checkpoint image.

use ckpt_format::stream::{validate, ObjMap};
use ckpt_tools::{json, show, Args};
use std::io::Read;

const USAGE: &str = "\
usage: ckptinfo [FILE] [--json]

Decodes and validates a checkpoint image (standard input without FILE, or
with -), and shows each record: offset, type, length and fields.

  --json      one JSON object: {\"valid\", \"length\", \"records\", \"error\"}
  -h, --help  this text

Exit status: 0 for a valid image, 1 for an invalid or incomplete one (the
first problem is shown with its offset), 2 for usage or I/O errors.";

fn main() {
    let mut args = Args::from_env();
    if args.flag("--help", "-h") {
        println!("{USAGE}");
        return;
    }
    let as_json = args.flag("--json", "--json");
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
    let result = validate(&data, &mut ObjMap::default(), |item| {
        lines.push(if as_json {
            show::json(item)
        } else {
            show::line(item)
        })
    });
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
