//! Language detection over arbitrary paths and first bytes: never panics, and
//! whatever it returns is a registered grammar that detects the same way again.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // First line: the path; the rest: the file's first bytes.
    let (path, head) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let path = String::from_utf8_lossy(path);
    let found = cst_grammars::detect(path.as_ref().as_ref(), head);
    if let Some(g) = found {
        assert!(cst_grammars::by_id(g.id()).is_some());
        assert_eq!(cst_grammars::detect(path.as_ref().as_ref(), head).map(|x| x.id()), Some(g.id()));
    }
    let _ = cst_grammars::by_name(&path);
});
