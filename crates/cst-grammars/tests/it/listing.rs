//! Listing and detecting languages constructs no parser and loads no grammar.
//! (Its own test binary: other tests load grammars concurrently.)

#[test]
fn listing_and_detecting_load_no_grammar() {
    let before = cst_grammars::languages_loaded();
    let mut n = 0;
    for g in cst_grammars::all() {
        n += g.extensions().len() + g.file_names().len() + usize::from(g.is_compiled());
        let _ = (g.id(), g.name(), g.crate_name(), g.license(), g.queries());
    }
    assert!(n > 100);
    assert_eq!(
        cst_grammars::compiled().count(),
        cst_grammars::all()
            .iter()
            .filter(|g| g.is_compiled())
            .count()
    );
    assert!(cst_grammars::detect("src/main.rs".as_ref(), b"fn main() {}").is_some());
    assert!(cst_grammars::by_name("python").is_some());
    assert_eq!(
        cst_grammars::languages_loaded(),
        before,
        "listing or detection created a tree_sitter::Language"
    );
}
