//! Hardening: any byte string gives a view or a typed error (never a panic),
//! arbitrary text round-trips exactly (garbage included, so ERROR and MISSING
//! nodes are covered), and corruption is detected.

use crate::common;

use cst_bytecode::{Codec, DecodeError, TreeView, compress, decompress, reseal, verify};
use proptest::prelude::*;

/// Opens and fully walks a view; returns the error if opening failed.
fn open_and_walk(
    bytes: &[u8],
    symbols: &std::sync::Arc<cst_bytecode::Symbols>,
) -> Result<usize, DecodeError> {
    let view = TreeView::open(bytes, symbols.clone())?;
    let root = view.root();
    let mut n = 0;
    for node in root.preorder() {
        n += node.child_count() + node.kind().len();
        let _ = (
            node.start_position(),
            node.end_position(),
            node.parent(),
            node.next_sibling(),
            node.prev_sibling(),
        );
        let _ = node.descendant_for_byte_range(node.start_byte(), node.end_byte());
    }
    let _ = root.to_sexp();
    Ok(n)
}

fn grammar_source() -> impl Strategy<Value = (&'static str, Vec<u8>)> {
    let langs = prop::sample::select(vec!["rust", "python", "javascript", "c", "json", "html"]);
    // Mix code-like tokens with arbitrary bytes.
    let token = prop_oneof![
        3 => prop::sample::select(vec![
            "fn ", "def ", "if ", "(", ")", "{", "}", "[", "]", "<div>", "</div>", "\"", "'", ":", ";", ",", "=", "+",
            "\n", "  ", "return ", "x", "42", "/*", "*/", "//", "#", "<", ">", "null", "true", "class ", "int ",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        1 => prop::collection::vec(any::<u8>(), 0..6),
    ];
    (
        langs,
        prop::collection::vec(token, 0..80).prop_map(|v| v.concat()),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_round_trips_exactly((lang, source) in grammar_source()) {
        let p = common::parse(lang, &source);
        prop_assert!(verify(&p.tree, &p.view).is_ok(), "{:?}", verify(&p.tree, &p.view));
        prop_assert_eq!(p.view.root().to_sexp(), p.tree.root_node().to_sexp());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let symbols = common::symbols("json");
        let _ = open_and_walk(&bytes, &symbols);
        let mut with_magic = b"CSTT".to_vec();
        with_magic.extend_from_slice(&bytes);
        let _ = open_and_walk(&with_magic, &symbols);
        let _ = decompress(&bytes, None);
    }

    #[test]
    fn mutated_trees_behind_a_valid_checksum_never_panic(
        (lang, source) in grammar_source(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let p = common::parse(lang, &source);
        let symbols = common::symbols(lang);
        let mut bytes = p.bytes.clone();
        for (at, v) in &edits {
            let i = at.index(bytes.len());
            bytes[i] ^= v | 1;
        }
        // Without resealing, the checksum catches every change.
        prop_assert!(TreeView::open(&bytes, symbols.clone()).is_err());
        reseal(&mut bytes);
        let _ = open_and_walk(&bytes, &symbols);
        // Truncated anywhere: a typed error.
        let n = cut.index(p.bytes.len());
        prop_assert!(TreeView::open(&p.bytes[..n], symbols.clone()).is_err());
    }
}

#[test]
fn every_single_bit_flip_and_truncation_is_detected() {
    let p = common::parse("rust", &common::sample("rust"));
    let symbols = common::symbols("rust");
    let z = compress(&p.bytes, Codec::Zstd(3), None).unwrap();
    for bytes in [&p.bytes, &z] {
        for i in 0..bytes.len() {
            for bit in [0, 3, 7] {
                let mut b = bytes.clone();
                b[i] ^= 1 << bit;
                let err = if bytes == &z {
                    decompress(&b, None).err()
                } else {
                    TreeView::open(&b, symbols.clone()).err()
                };
                assert!(
                    err.is_some(),
                    "flip of bit {bit} at byte {i} went unnoticed"
                );
            }
        }
        for n in 0..bytes.len() {
            let err = if bytes == &z {
                decompress(&bytes[..n], None).err()
            } else {
                TreeView::open(&bytes[..n], symbols.clone()).err()
            };
            assert!(err.is_some(), "truncation to {n} bytes went unnoticed");
        }
    }
}

#[test]
fn typed_errors_for_foreign_and_future_bytes() {
    let symbols = common::symbols("json");
    assert_eq!(
        TreeView::open(b"", symbols.clone()).unwrap_err(),
        DecodeError::Truncated {
            needed: 48,
            available: 0
        }
    );
    assert_eq!(
        TreeView::open(b"PK\x03\x04 not a tree", symbols.clone()).unwrap_err(),
        DecodeError::BadMagic
    );
    let mut p = common::parse("json", b"[1, 2]").bytes;
    p[4] = 99; // version 99
    reseal(&mut p);
    assert!(matches!(
        TreeView::open(&p, symbols.clone()).unwrap_err(),
        DecodeError::UnsupportedVersion { found: 99, .. }
    ));
    let mut p = common::parse("json", b"[1, 2]").bytes;
    p[24..28].copy_from_slice(&u32::MAX.to_le_bytes()); // node count far beyond the body
    reseal(&mut p);
    assert!(matches!(
        TreeView::open(&p, symbols).unwrap_err(),
        DecodeError::Corrupt { .. }
    ));
    // A zstd container claiming a gigantic output from a tiny payload is refused before allocating.
    let mut z = compress(b"tiny", Codec::Zstd(3), None).unwrap();
    z[12..16].copy_from_slice(&(1u32 << 30).to_le_bytes());
    assert!(decompress(&z, None).is_err());
}
