//! Decode and fully walk arbitrary bytes as an encoded tree: `Ok` or a typed
//! error, never a panic. Half the inputs get a valid checksum first (byte 0
//! of the input chooses), so the structural checks behind it are reached.
#![no_main]

use std::sync::{Arc, OnceLock};

use cst_bytecode::{Symbols, TreeView, reseal};
use libfuzzer_sys::fuzz_target;

fn symbols() -> &'static Arc<Symbols> {
    static S: OnceLock<Arc<Symbols>> = OnceLock::new();
    S.get_or_init(|| {
        let g = cst_grammars::by_id("rust").unwrap();
        Arc::new(Symbols::from_language(&g.language().unwrap(), g.fingerprint().unwrap().0))
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let mut bytes = rest.to_vec();
    if mode & 1 == 1 {
        // Keep the input's own body but give it our magic, version, fingerprint and checksum.
        if bytes.len() >= cst_bytecode::HEADER_LEN {
            bytes[..4].copy_from_slice(&cst_bytecode::MAGIC);
            bytes[4..6].copy_from_slice(&cst_bytecode::VERSION.to_le_bytes());
            bytes[8..24].copy_from_slice(&symbols().fingerprint());
            let body_len = (bytes.len() - cst_bytecode::HEADER_LEN) as u32;
            bytes[40..44].copy_from_slice(&body_len.to_le_bytes());
        }
        reseal(&mut bytes);
    }
    let Ok(view) = TreeView::open(&bytes, symbols().clone()) else { return };
    let root = view.root();
    let mut n = 0usize;
    for node in root.preorder() {
        n += node.child_count() + node.kind().len() + node.named_child_count();
        let _ = (node.start_position(), node.end_position(), node.parent(), node.prev_sibling());
        let _ = node.descendant_for_byte_range(node.start_byte(), node.end_byte());
        let _ = node.field_name();
    }
    assert_eq!(root.preorder().count(), view.node_count());
    let _ = (root.to_sexp(), n);
});
