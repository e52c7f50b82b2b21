//! A loaded grammar claiming the extension of a table grammar that is not
//! compiled into this build is the one detection picks (its own test
//! binary: registration is process-wide).

#[test]
fn a_loaded_grammar_wins_over_a_descriptor_that_cannot_parse() {
    let Some(uncompiled) = cst_grammars::all()
        .iter()
        .find(|g| !g.is_compiled() && !g.extensions().is_empty())
    else {
        eprintln!("SKIPPED: every grammar of the table is compiled into this build");
        return;
    };
    let ext = uncompiled.extensions()[0];
    let language = cst_grammars::by_id("json").unwrap().language().unwrap();
    let spec = cst_grammars::LoadedSpec {
        id: format!("{}_loaded", uncompiled.id()),
        extensions: vec![ext.to_string()],
        ..Default::default()
    };
    let g = cst_grammars::register(spec, language, [7; 32]).unwrap();
    let path = format!("src/file.{ext}");
    let found = cst_grammars::detect_path(path.as_ref()).unwrap();
    assert_eq!(found.id(), g.id(), "{path}");
    assert!(found.is_available());
    // An id that is not [a-z0-9_] is refused.
    let bad = cst_grammars::LoadedSpec {
        id: "Bad-Id".into(),
        ..Default::default()
    };
    let language = cst_grammars::by_id("json").unwrap().language().unwrap();
    assert!(matches!(
        cst_grammars::register(bad, language, [8; 32]),
        Err(cst_grammars::Error::InvalidId(_))
    ));
}
