//! Golden files: trees written by earlier format versions must still decode
//! to the same S-expression, and while the format version and the grammar are
//! unchanged, the encoder must still write exactly the same bytes.
//! Regenerate (only when adding a version) with `CST_BLESS=1 cargo test -p cst-bytecode --features tree-sitter --test it golden::`.

use std::path::Path;
use std::sync::Arc;

use cst_bytecode::{Symbols, TreeView, encode};

const CASES: &[(&str, &str)] = &[
    ("rust", "rust"),
    ("python", "python"),
    ("json", "json"),
    ("c", "c_errors"),
];

#[test]
fn golden_files_decode_and_re_encode_identically() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let bless = std::env::var_os("CST_BLESS").is_some();
    let mut checked = 0;
    for version in std::fs::read_dir(&dir).unwrap() {
        let vdir = version.unwrap().path();
        let v: u16 = vdir
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .trim_start_matches('v')
            .parse()
            .unwrap();
        for (lang, name) in CASES {
            let g = cst_grammars::by_id(lang).unwrap();
            let source = std::fs::read(vdir.join(format!("{name}.src"))).unwrap();
            let (cst_path, sexp_path) = (
                vdir.join(format!("{name}.cst")),
                vdir.join(format!("{name}.sexp")),
            );
            let tree = g.parser().unwrap().parse(&source, None).unwrap();
            let fresh = encode(&tree, &source, g.fingerprint().unwrap().0).unwrap();
            if bless && v == cst_bytecode::VERSION {
                std::fs::write(&cst_path, &fresh).unwrap();
                std::fs::write(&sexp_path, tree.root_node().to_sexp()).unwrap();
            }
            let golden = std::fs::read(&cst_path).unwrap();
            let expected = std::fs::read_to_string(&sexp_path).unwrap();
            assert_eq!(
                u16::from_le_bytes([golden[4], golden[5]]),
                v,
                "{name}: header version"
            );
            // Decode with the current grammar's names, under the golden fingerprint.
            let mut fp = [0u8; 16];
            fp.copy_from_slice(&golden[8..24]);
            let symbols = Arc::new(Symbols::from_language(&g.language().unwrap(), fp));
            let view =
                TreeView::open(&golden, symbols).unwrap_or_else(|e| panic!("v{v} {name}: {e}"));
            assert_eq!(view.root().to_sexp(), expected, "v{v} {name}: to_sexp");
            assert_eq!(view.source_len(), source.len());
            if v >= 4 {
                // Read in place: packs and unpacks as itself (the sequences
                // in its own version's kinds).
                let packed = cst_bytecode::pack(&golden).unwrap();
                assert_eq!(
                    cst_bytecode::unpack(&packed).unwrap(),
                    golden,
                    "v{v} {name}: pack"
                );
            }
            if fp == g.fingerprint().unwrap().0 {
                // Every node reads as in the tree encoded now, positions
                // and byte searches included.
                let now = TreeView::open(&fresh, view.symbols().clone()).unwrap();
                let (a, b): (Vec<_>, Vec<_>) = (
                    view.root().preorder().collect(),
                    now.root().preorder().collect(),
                );
                assert_eq!(a.len(), b.len(), "v{v} {name}: nodes");
                for (x, y) in a.iter().zip(&b) {
                    assert_eq!(
                        (x.kind_id(), x.byte_range(), x.start_position()),
                        (y.kind_id(), y.byte_range(), y.start_position()),
                        "v{v} {name}"
                    );
                }
                for byte in 0..=source.len() {
                    let (x, y) = (
                        view.root().descendant_for_byte_range(byte, byte),
                        now.root().descendant_for_byte_range(byte, byte),
                    );
                    assert_eq!(
                        x.map(|n| (n.id(), n.byte_range())),
                        y.map(|n| (n.id(), n.byte_range())),
                        "v{v} {name}: byte {byte}"
                    );
                }
            }
            if v == cst_bytecode::VERSION && fp == g.fingerprint().unwrap().0 {
                assert!(
                    fresh == golden,
                    "v{v} {name}: the encoder's output changed without a version bump"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= CASES.len());
}
