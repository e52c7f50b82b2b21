//! Property tests: packs and manifests round trip for arbitrary contents,
//! and arbitrary damage is refused (or, where a flip leaves a parseable
//! object, never yields a record that was not written).

use std::collections::BTreeMap;

use bytes::Bytes;
use cst_remote::manifest::{DictEntry, Fingerprint, Manifest, PackEntry};
use cst_remote::pack::{Pack, PackIndex, PackWriter, verify_frame};
use proptest::prelude::*;

fn records() -> impl Strategy<Value = Vec<([u8; 32], Vec<u8>)>> {
    prop::collection::vec(
        (
            any::<[u8; 32]>(),
            prop::collection::vec(any::<u8>(), 0..200),
        ),
        0..30,
    )
}

fn manifest() -> impl Strategy<Value = Manifest> {
    let fp = ("[a-z_]{1,12}", any::<[u8; 16]>())
        .prop_map(|(id, fingerprint)| Fingerprint { id, fingerprint });
    let pack = (
        any::<[u8; 32]>(),
        any::<u64>(),
        any::<u32>(),
        any::<[u8; 32]>(),
        any::<u32>(),
    )
        .prop_map(|(pack, size, records, index, index_size)| PackEntry {
            pack,
            size,
            records,
            index,
            index_size,
        });
    let dict = ("[a-z/]{1,20}", any::<[u8; 32]>(), any::<u64>())
        .prop_map(|(name, digest, size)| DictEntry { name, digest, size });
    (
        any::<u32>(),
        any::<u64>(),
        any::<u64>(),
        any::<Option<[u8; 32]>>(),
        prop::collection::vec(fp, 0..5),
        prop::collection::vec(pack, 0..5),
        prop::collection::vec(dict, 0..5),
    )
        .prop_map(
            |(format, generation, created, parent, fingerprints, packs, dicts)| Manifest {
                format,
                generation,
                created,
                parent: parent.filter(|p| *p != [0; 32]),
                fingerprints,
                packs,
                dicts,
            },
        )
}

proptest! {
    #[test]
    fn packs_round_trip(recs in records()) {
        let mut w = PackWriter::new();
        let mut model = BTreeMap::new();
        for (k, b) in &recs {
            let added = w.add(*k, b).unwrap();
            prop_assert_eq!(added, !model.contains_key(k));
            model.entry(*k).or_insert_with(|| b.clone());
        }
        let f = w.finish();
        let pack = Pack::parse(f.pack.clone()).unwrap();
        let index = PackIndex::parse(f.index.clone()).unwrap();
        prop_assert_eq!(index.len(), model.len());
        for (k, b) in &model {
            prop_assert_eq!(&pack.get(k).unwrap().unwrap()[..], &b[..]);
        }
    }

    #[test]
    fn damaged_packs_never_serve_a_wrong_record(
        recs in records(),
        at in any::<prop::sample::Index>(),
        bit in 0u8..8,
        cut in any::<prop::sample::Index>(),
    ) {
        let mut w = PackWriter::new();
        let mut model = BTreeMap::new();
        for (k, b) in &recs {
            w.add(*k, b).unwrap();
            model.entry(*k).or_insert_with(|| b.clone());
        }
        let f = w.finish();
        let good = PackIndex::parse(f.index.clone()).unwrap();
        // A flipped bit anywhere in the pack.
        let mut d = f.pack.to_vec();
        let i = at.index(d.len());
        d[i] ^= 1 << bit;
        let d = Bytes::from(d);
        for e in good.iter() {
            let frame = d.slice(e.offset as usize..(e.offset + u64::from(e.len)) as usize);
            if let Ok(body) = verify_frame(&frame, &e) {
                prop_assert_eq!(&body[..], &model[&e.key][..]);
            }
        }
        if let Ok(p) = Pack::parse(d) {
            for e in p.index().iter() {
                if let Ok(body) = p.record(&e) {
                    prop_assert_eq!(Some(&body[..]), model.get(&e.key).map(|b| &b[..]));
                }
            }
        }
        // A cut pack never parses.
        let c = cut.index(f.pack.len());
        prop_assert!(Pack::parse(f.pack.slice(..c)).is_err());
    }

    #[test]
    fn manifests_round_trip(m in manifest()) {
        let mut n = m.clone();
        n.normalize();
        let b = m.encode().unwrap();
        prop_assert_eq!(Manifest::decode(&b).unwrap(), n.clone());
        prop_assert_eq!(n.encode().unwrap(), b);
    }

    #[test]
    fn arbitrary_bytes_never_panic(b in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = Manifest::decode(&b);
        let _ = cst_remote::Ref::decode(&b);
        let _ = PackIndex::parse(Bytes::from(b.clone()));
        let _ = Pack::parse(Bytes::from(b));
    }
}
