//! `cst show`: a file's stored tree, as tree-sitter's S-expression or as
//! JSON (or its outline, as `cst outline`).

use cst::bytecode::Node;
use cst_workspace::discover::{self, Access};
use serde::Serialize;

use crate::Failure;
use crate::flags::{Cli, ShowArgs};
use crate::session;

/// A node of `cst show --json`, with its children.
#[derive(Serialize)]
struct NodeOut<'t> {
    kind: &'t str,
    named: bool,
    /// Row and column (zero-based, as tree-sitter's points).
    start: [usize; 2],
    end: [usize; 2],
    bytes: [usize; 2],
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'t str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    error: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    missing: bool,
    /// Absent for a leaf.
    #[serde(skip_serializing_if = "Option::is_none")]
    children: Option<Vec<NodeOut<'t>>>,
}

impl<'t> NodeOut<'t> {
    /// `n` without its children.
    fn of(n: Node<'t>) -> NodeOut<'t> {
        let (s, e) = (n.start_position(), n.end_position());
        NodeOut {
            kind: n.kind(),
            named: n.is_named(),
            start: [s.row, s.column],
            end: [e.row, e.column],
            bytes: [n.start_byte(), n.end_byte()],
            field: n.field_name(),
            error: n.is_error(),
            missing: n.is_missing(),
            children: None,
        }
    }

    /// The tree under `root`, built iteratively (deep trees must not
    /// overflow the stack).
    fn tree(root: Node<'t>) -> NodeOut<'t> {
        // Post-order: build children first, then attach.
        let nodes: Vec<Node<'t>> = root.preorder().collect();
        let base = root.id();
        let mut built: Vec<Option<NodeOut<'t>>> = Vec::new();
        built.resize_with(nodes.len(), || None);
        for n in nodes.iter().rev() {
            let mut v = NodeOut::of(*n);
            if n.child_count() > 0 {
                v.children = Some(
                    n.children()
                        .map(|c| {
                            built[c.id() - base]
                                .take()
                                .expect("children are built first")
                        })
                        .collect(),
                );
            }
            built[n.id() - base] = Some(v);
        }
        built[0].take().expect("root")
    }
}

pub(crate) fn run(cli: &Cli, args: &ShowArgs) -> Result<u8, Failure> {
    if args.outline {
        return crate::cmd::outline::run(cli, &args.file, false);
    }
    let file = session::canonical(&args.file)?;
    let root = discover::find_root(&file, cli.cache_dir.is_some());
    // Read-only: beside a writer; a file not stored yet (or changed) is
    // parsed in memory.
    let cache = session::open(cli, &root, Access::Read)?;
    let tree = discover::fresh_tree(&cache, &file)?;
    let root = tree.root();
    if args.json {
        outln!(
            "{}",
            serde_json::to_string(&NodeOut::tree(root)).expect("JSON")
        );
    } else {
        outln!("{}", root.to_sexp());
    }
    drop(tree);
    session::done_reading(cache);
    Ok(0)
}
