//! Replays every input the fuzz targets ever crashed on (`fuzz/regressions/<target>/`).

mod common;

use std::path::Path;

#[test]
fn fuzz_findings_stay_fixed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions");
    let symbols = common::symbols("rust");
    let mut replayed = 0;
    for (target, run) in [
        (
            "decode",
            &(|d: &[u8]| cst_bytecode::fuzzing::decode_and_walk(d, &symbols)) as &dyn Fn(&[u8]),
        ),
        ("dense", &cst_bytecode::fuzzing::decompress),
    ] {
        let Ok(dir) = std::fs::read_dir(root.join(target)) else {
            continue;
        };
        for entry in dir {
            let path = entry.unwrap().path();
            run(&std::fs::read(&path).unwrap());
            replayed += 1;
        }
    }
    assert!(
        replayed >= 1,
        "no regression inputs found under {}",
        root.display()
    );
}
