//! The child-process probe: a grammar is loaded and exercised in a process
//! of its own before cst's process trusts it, so a library that crashes,
//! hangs or misbehaves refuses itself instead of taking cst down.
//!
//! Protocol: the parent runs `PROGRAM ARGS… LIBRARY SYMBOL [SAMPLE…]`. The
//! child ([`child_main`]) loads the library, checks the ABI, parses built-in
//! samples and the given files, checks every node of every tree (kind ids
//! within the grammar's tables, byte ranges nested and within the input),
//! and prints one `key value` line per fact on stdout, ending with `ok`.
//! Anything else (a signal, a non-zero exit, no `ok`, the timeout) refuses
//! the grammar.

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{Error, ProbeCommand, hex};

/// What the probe reports of a grammar that passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeReport {
    /// ABI version.
    pub abi: usize,
    /// Node kinds in the grammar's tables.
    pub kinds: usize,
    /// Fields in the grammar's tables.
    pub fields: usize,
    /// [`cst_grammars::table_fingerprint`] of the language, in hex.
    pub tables: String,
    /// Inputs parsed.
    pub samples: usize,
    /// Nodes checked.
    pub nodes: u64,
}

/// At most this many bytes of the child's output are kept.
const MAX_OUTPUT: u64 = 64 << 10;

/// Runs the probe for `library`'s `symbol` with the sample files `samples`.
pub fn run(
    command: &ProbeCommand,
    timeout: Duration,
    grammar: &str,
    library: &Path,
    symbol: &str,
    samples: &[PathBuf],
) -> Result<ProbeReport, Error> {
    let refuse = |reason: String| Error::Probe {
        grammar: grammar.to_string(),
        reason,
    };
    let mut child = Command::new(&command.program)
        .args(&command.args)
        .arg(library)
        .arg(symbol)
        .args(samples)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(Error::io(&command.program))?;
    // Drain both pipes on threads so a chatty child cannot block on a full
    // pipe while we wait for it.
    // What is past the limit is read and dropped: the child never blocks
    // on a full pipe. The answer comes back over a channel, so a process
    // the child left holding the pipe cannot keep us waiting.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut text = Vec::new();
            if let Some(mut p) = pipe {
                let _ = (&mut p).take(MAX_OUTPUT).read_to_end(&mut text);
                let _ = std::io::copy(&mut p, &mut std::io::sink());
            }
            let _ = tx.send(String::from_utf8_lossy(&text).into_owned());
        });
        rx
    };
    let out = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let err = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let start = Instant::now();
    let status = loop {
        match child.try_wait().map_err(Error::io(&command.program))? {
            Some(status) => break status,
            None if start.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(refuse(format!(
                    "no answer within {} s (killed)",
                    timeout.as_secs()
                )));
            }
            None => std::thread::sleep(Duration::from_millis(5)),
        }
    };
    let grace = Duration::from_secs(2);
    let stdout = out.recv_timeout(grace).unwrap_or_default();
    let stderr = err.recv_timeout(grace).unwrap_or_default();
    let message = stderr.trim().lines().last().unwrap_or("").to_string();
    if !status.success() {
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt;
            if let Some(signal) = status.signal() {
                return Err(refuse(format!("it crashed (signal {signal}) {message}")));
            }
        }
        return Err(refuse(format!("{status}: {message}")));
    }
    parse_report(&stdout).ok_or_else(|| refuse(format!("no report ({message})")))
}

fn parse_report(text: &str) -> Option<ProbeReport> {
    let get = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(' '))
            .map(str::trim)
    };
    text.lines().any(|l| l.trim() == "ok").then_some(())?;
    Some(ProbeReport {
        abi: get("abi")?.parse().ok()?,
        kinds: get("kinds")?.parse().ok()?,
        fields: get("fields")?.parse().ok()?,
        tables: get("tables")?.to_string(),
        samples: get("samples")?.parse().ok()?,
        nodes: get("nodes")?.parse().ok()?,
    })
}

/// Built-in inputs every grammar must survive: empty, ordinary text,
/// unbalanced brackets, deep nesting and arbitrary bytes.
fn builtin_samples() -> Vec<Vec<u8>> {
    let mut noise = Vec::with_capacity(4096);
    let mut x: u32 = 0x9e37_79b9;
    for _ in 0..4096 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        noise.push((x & 0xff) as u8);
    }
    vec![
        Vec::new(),
        b"hello world\n".to_vec(),
        b"fn main() { let x = [1, 2, \"three\"]; // comment\n if (x) { return; } }\n<a href='b'>c</a>\n"
            .to_vec(),
        b"(((((((((([[[[[[[[{{{{{{{{ \" ' ` /* <!-- \n".to_vec(),
        "(".repeat(2000).into_bytes(),
        noise,
    ]
}

/// The probe's child side: `args` are `LIBRARY SYMBOL [SAMPLE…]`. Prints the
/// report on stdout and returns the exit code (0 when the grammar passed).
pub fn child_main(args: &[OsString]) -> i32 {
    match child(args) {
        Ok(report) => {
            println!("abi {}", report.abi);
            println!("kinds {}", report.kinds);
            println!("fields {}", report.fields);
            println!("tables {}", report.tables);
            println!("samples {}", report.samples);
            println!("nodes {}", report.nodes);
            println!("ok");
            0
        }
        Err(message) => {
            eprintln!("{message}");
            2
        }
    }
}

fn child(args: &[OsString]) -> Result<ProbeReport, String> {
    let [library, symbol, samples @ ..] = args else {
        return Err("usage: LIBRARY SYMBOL [SAMPLE…]".into());
    };
    let symbol = symbol.to_str().ok_or("the symbol is not UTF-8")?;
    let language = crate::dl::open(Path::new(library), symbol).map_err(|e| e.to_string())?;
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&language)
        .map_err(|e| format!("tree-sitter refuses the language: {e}"))?;
    let kinds = language.node_kind_count();
    let mut inputs = builtin_samples();
    for s in samples {
        let bytes = std::fs::read(s).map_err(|e| format!("{}: {e}", Path::new(s).display()))?;
        inputs.push(bytes);
    }
    let mut nodes = 0u64;
    for input in &inputs {
        let tree = parser
            .parse(input, None)
            .ok_or("the parser returned no tree")?;
        nodes += check_tree(&tree, input.len(), kinds)?;
    }
    Ok(ProbeReport {
        abi: language.abi_version(),
        kinds,
        fields: language.field_count(),
        tables: hex(&cst_grammars::table_fingerprint(&language).0),
        samples: inputs.len(),
        nodes,
    })
}

/// Walks `tree`: every kind id within the tables, every byte range inside
/// its parent's and the input. Returns the node count.
fn check_tree(tree: &tree_sitter::Tree, len: usize, kinds: usize) -> Result<u64, String> {
    let mut cursor = tree.walk();
    let mut count = 0u64;
    let mut bounds: Vec<(usize, usize)> = vec![(0, len)];
    loop {
        let node = cursor.node();
        count += 1;
        let (lo, hi) = *bounds.last().expect("the root's bounds");
        let (start, end) = (node.start_byte(), node.end_byte());
        if usize::from(node.kind_id()) >= kinds && !node.is_error() {
            return Err(format!("node kind id {} out of range", node.kind_id()));
        }
        if start > end || start < lo || end > hi {
            return Err(format!(
                "node {} spans {start}..{end}, outside {lo}..{hi}",
                node.kind()
            ));
        }
        if cursor.goto_first_child() {
            bounds.push((start, end));
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return Ok(count);
            }
            bounds.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_parse_and_reject() {
        let good = "abi 14\nkinds 3\nfields 0\ntables 00ff\nsamples 6\nnodes 9\nok\n";
        let r = parse_report(good).unwrap();
        assert_eq!((r.abi, r.kinds, r.fields, r.nodes), (14, 3, 0, 9));
        assert!(parse_report("abi 14\nkinds 3\n").is_none());
        assert!(parse_report(&good.replace("abi 14", "abi x")).is_none());
    }

    #[test]
    fn the_child_refuses_bad_arguments() {
        assert!(child(&[]).is_err());
        let e = child(&["/nonexistent/lib.so".into(), "tree_sitter_x".into()]).unwrap_err();
        assert!(e.contains("/nonexistent/lib.so"), "{e}");
        let e = child(&["/nonexistent/lib.so".into(), "not-a-symbol".into()]).unwrap_err();
        assert!(e.contains("not a grammar symbol"), "{e}");
    }
}
