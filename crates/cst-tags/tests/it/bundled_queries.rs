//! The tags queries cst bundles (`queries/<id>/tags.scm`), checked with
//! tree-sitter-tags itself: each compiles against the grammar cst pins, and
//! finds named definitions in the language's smoke sample
//! (`corpora/samples/<id>/`) and, when one is at hand, in a real-code file
//! (the downloaded corpora under `$CST_CORPORA`, default `target/corpora`,
//! or the grammars' own test corpora in `../shared/peer-suites`). Expected
//! names were read from those files by hand.

use std::path::{Path, PathBuf};

use tree_sitter_tags::{TagsConfiguration, TagsContext};

/// Where a real-code file comes from.
enum Source {
    /// A path under `$CST_CORPORA/src/` (an artifact name, then its files).
    Corpus(&'static str),
    /// One test of a grammar's test corpus: `<lang>/corpus/<file>` under
    /// `../shared/peer-suites/`, the test with this name.
    Peer {
        file: &'static str,
        test: &'static str,
    },
}

/// What a file must yield.
struct Expect {
    /// Definitions as (kind, name).
    defs: &'static [(&'static str, &'static str)],
    /// References as (kind, name).
    refs: &'static [(&'static str, &'static str)],
    /// Docs as (definition name, text the docs contain).
    docs: &'static [(&'static str, &'static str)],
    /// Names that must not be tagged as definitions (locals, aliases…).
    not_defs: &'static [&'static str],
    /// Definitions (kind, name) that must be tagged exactly once.
    once: &'static [(&'static str, &'static str)],
}

const NONE: Expect = Expect {
    defs: &[],
    refs: &[],
    docs: &[],
    not_defs: &[],
    once: &[],
};

struct Case {
    id: &'static str,
    /// Over the smoke samples, `corpora/samples/<id>/*`, together.
    sample: Expect,
    /// Real-code files, each checked on its own when present.
    real: &'static [(Source, Expect)],
}

/// One tag, resolved to text.
#[derive(Debug)]
struct Found {
    kind: String,
    name: String,
    is_definition: bool,
    docs: Option<String>,
    name_range: std::ops::Range<usize>,
}

fn samples_dir(id: &str) -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../corpora/samples/"
    ))
    .join(id)
}

fn corpora_dir() -> PathBuf {
    std::env::var_os("CST_CORPORA").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/corpora")),
        PathBuf::from,
    )
}

fn peer_suites_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/peer-suites"
    ))
}

fn config(id: &str) -> TagsConfiguration {
    let query =
        cst_tags::bundled::tags_query(id).unwrap_or_else(|| panic!("{id}: no bundled tags query"));
    let language = cst_grammars::by_id(id)
        .unwrap_or_else(|| panic!("{id}: unknown grammar id"))
        .language()
        .unwrap_or_else(|e| panic!("{id}: grammar not compiled in: {e}"));
    TagsConfiguration::new(language, query, "")
        .unwrap_or_else(|e| panic!("{id}: tags query does not compile: {e}"))
}

fn tags(config: &TagsConfiguration, source: &[u8], what: &str) -> Vec<Found> {
    let mut context = TagsContext::new();
    let (tags, _has_error) = context
        .generate_tags(config, source, None)
        .unwrap_or_else(|e| panic!("{what}: generate_tags: {e}"));
    let found = tags
        .map(|tag| {
            let tag = tag.unwrap_or_else(|e| panic!("{what}: tag: {e}"));
            // tree-sitter-tags hands out an `@ignore` placeholder (range
            // `usize::MAX`) when one is left at the end of the file.
            assert!(
                tag.range.end <= source.len(),
                "{what}: a placeholder tag for byte {} leaked",
                tag.name_range.start
            );
            Found {
                kind: config.syntax_type_name(tag.syntax_type_id).to_string(),
                name: String::from_utf8_lossy(&source[tag.name_range.clone()]).into_owned(),
                is_definition: tag.is_definition,
                docs: tag.docs,
                name_range: tag.name_range,
            }
        })
        .collect::<Vec<_>>();
    // One tag per name: two patterns claiming a name must resolve to one.
    let mut ranges: Vec<_> = found.iter().map(|t| t.name_range.clone()).collect();
    ranges.sort_by_key(|r| (r.start, r.end));
    for pair in ranges.windows(2) {
        assert!(
            pair[0] != pair[1],
            "{what}: two tags for {:?} at byte {}",
            String::from_utf8_lossy(&source[pair[0].clone()]),
            pair[0].start
        );
    }
    found
}

fn check(found: &[Found], what: &str, expect: &Expect) {
    let listing = || {
        found
            .iter()
            .map(|t| {
                let role = if t.is_definition { "def" } else { "ref" };
                format!("  {role} {} {}", t.kind, t.name)
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let has = |definition: bool, kind: &str, name: &str| {
        found
            .iter()
            .any(|t| t.is_definition == definition && t.kind == kind && t.name == name)
    };
    for &(kind, name) in expect.defs {
        assert!(
            has(true, kind, name),
            "{what}: missing definition.{kind} {name:?}; found:\n{}",
            listing()
        );
    }
    for &(kind, name) in expect.refs {
        assert!(
            has(false, kind, name),
            "{what}: missing reference.{kind} {name:?}; found:\n{}",
            listing()
        );
    }
    for &(name, text) in expect.docs {
        assert!(
            found.iter().any(|t| t.is_definition
                && t.name == name
                && t.docs.as_deref().is_some_and(|d| d.contains(text))),
            "{what}: no definition {name:?} with docs containing {text:?}; found: {:?}",
            found
                .iter()
                .filter(|t| t.name == name)
                .map(|t| (&t.kind, &t.docs))
                .collect::<Vec<_>>()
        );
    }
    for &(kind, name) in expect.once {
        let n = found
            .iter()
            .filter(|t| t.is_definition && t.kind == kind && t.name == name)
            .count();
        assert_eq!(
            n,
            1,
            "{what}: definition.{kind} {name:?} tagged {n} times; found:\n{}",
            listing()
        );
    }
    for &name in expect.not_defs {
        assert!(
            !found.iter().any(|t| t.is_definition && t.name == name),
            "{what}: {name:?} must not be a definition; found:\n{}",
            listing()
        );
    }
}

/// The input of test `test` in a tree-sitter test corpus file: the lines
/// between the header's closing `===` rule and the longest `---` divider
/// before the next header.
fn peer_test_input(text: &str, test: &str) -> Option<String> {
    let rule = |l: &str, c: char| l.len() >= 3 && l.chars().all(|x| x == c);
    let lines: Vec<&str> = text.lines().collect();
    let start = (0..lines.len().saturating_sub(1))
        .find(|&i| rule(lines[i], '=') && lines[i + 1].trim() == test)?;
    // Attribute lines may follow the name, up to the closing rule.
    let close = (start + 2..lines.len()).find(|&i| rule(lines[i], '='))?;
    let body = &lines[close + 1..];
    let end = body.iter().position(|l| rule(l, '=')).unwrap_or(body.len());
    let divider = body[..end]
        .iter()
        .enumerate()
        .filter(|(_, l)| rule(l, '-'))
        .max_by_key(|(i, l)| (l.len(), std::cmp::Reverse(*i)))?
        .0;
    Some(body[..divider].join("\n"))
}

fn run(case: &Case) {
    let config = config(case.id);

    let dir = samples_dir(case.id);
    let mut samples: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {}: {e}", case.id, dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    samples.sort();
    assert!(!samples.is_empty(), "{}: no sample", case.id);
    // The expectations hold over all of the language's samples together.
    let mut found = Vec::new();
    for path in &samples {
        let source = std::fs::read(path).unwrap();
        found.extend(tags(&config, &source, &path.display().to_string()));
    }
    check(&found, &format!("{} sample", case.id), &case.sample);

    for (source, expect) in case.real {
        if let Some((what, text)) = real_file(case.id, source) {
            check(&tags(&config, &text, &what), &what, expect);
        }
    }
}

/// A real-code file's name and text, or `None` (said loudly) when absent.
fn real_file(id: &str, source: &Source) -> Option<(String, Vec<u8>)> {
    match source {
        Source::Corpus(rel) => {
            let path = corpora_dir().join("src").join(rel);
            match std::fs::read(&path) {
                Ok(text) => Some((path.display().to_string(), text)),
                Err(_) => {
                    eprintln!(
                        "SKIPPED: {id}: real-code file {} is absent (`cargo xtask corpus fetch` downloads it)",
                        path.display()
                    );
                    None
                }
            }
        }
        Source::Peer { file, test } => {
            let path = peer_suites_dir().join(id).join("corpus").join(file);
            let Ok(text) = std::fs::read_to_string(&path) else {
                crate::common::shared_input_absent(&path, &format!("{id}: peer-suite file"));
                return None;
            };
            let input = peer_test_input(&text, test)
                .unwrap_or_else(|| panic!("{id}: no test {test:?} in {}", path.display()));
            Some((format!("{}#{test}", path.display()), input.into_bytes()))
        }
    }
}

const CASES: &[Case] = &[
    Case {
        id: "c_sharp",
        sample: Expect {
            defs: &[
                ("module", "Smoke.Inventory"),
                ("enum", "Category"),
                ("constant", "Tools"),
                ("class", "Product"),
                ("interface", "IRepository"),
                ("class", "ProductRepository"),
                ("property", "Count"),
                ("method", "Add"),
                ("method", "FindAsync"),
                ("method", "Main"),
            ],
            refs: &[
                ("class", "ArgumentNullException"),
                ("class", "ProductRepository"),
            ],
            ..NONE
        },
        real: &[],
    },
    Case {
        id: "bash",
        sample: Expect {
            defs: &[
                ("function", "usage"),
                ("function", "log"),
                ("constant", "LOG_DIR"),
                ("constant", "KEEP_DAYS"),
                ("variable", "rotated"),
                ("variable", "sizes"),
                ("variable", "verbose"),
                ("variable", "total"),
            ],
            refs: &[("call", "log"), ("call", "gzip"), ("call", "usage")],
            not_defs: &["size", "days", "file", "opt"],
            ..NONE
        },
        real: &[
            (
                Source::Corpus("bash-completion/usr/share/bash-completion/completions/_modules"),
                Expect {
                    defs: &[
                        ("function", "_module_list"),
                        ("function", "_module_path"),
                        ("function", "_module_avail"),
                        ("function", "_module"),
                    ],
                    refs: &[("call", "compgen"), ("call", "_init_completion")],
                    not_defs: &["modules", "options", "cur"],
                    ..NONE
                },
            ),
            (
                Source::Peer {
                    file: "statements.txt",
                    test: "Function definitions",
                },
                Expect {
                    defs: &[
                        ("function", "do_something"),
                        ("function", "run_subshell_command"),
                        ("function", "run_test_command"),
                        ("function", "do_something_else"),
                        ("function", "do_yet_another_thing"),
                        ("function", "foo::bar"),
                        ("function", "assert"),
                    ],
                    refs: &[("call", "echo"), ("call", "xargs")],
                    ..NONE
                },
            ),
            (
                Source::Peer {
                    file: "statements.txt",
                    test: "Variable declaration: readonly",
                },
                Expect {
                    defs: &[("constant", "var1"), ("constant", "var2")],
                    ..NONE
                },
            ),
        ],
    },
    Case {
        id: "kotlin",
        sample: Expect {
            defs: &[
                ("module", "com.example.inventory"),
                ("enum", "Status"),
                ("constant", "IN_STOCK"),
                ("class", "Item"),
                ("class", "Result"),
                ("class", "Ok"),
                ("interface", "Repository"),
                ("class", "InMemoryRepository"),
                ("method", "find"),
                ("method", "save"),
                ("method", "adjust"),
                ("method", "summary"),
                ("field", "sku"),
                ("field", "items"),
                ("field", "lastUpdate"),
                ("function", "main"),
            ],
            refs: &[
                ("call", "println"),
                ("call", "InventoryService"),
                ("implementation", "Repository"),
            ],
            docs: &[("Status", "Status of a stock item.")],
            not_defs: &["item", "ratio", "service", "result"],
            ..NONE
        },
        real: &[(
            Source::Corpus(
                "protobuf/protobuf-3.21.12/java/kotlin/src/main/kotlin/com/google/protobuf/UnmodifiableCollections.kt",
            ),
            Expect {
                defs: &[
                    ("module", "com.google.protobuf.kotlin"),
                    ("class", "UnmodifiableIterator"),
                    ("class", "UnmodifiableListIterator"),
                    ("class", "UnmodifiableCollection"),
                    ("class", "UnmodifiableMapEntries"),
                    ("method", "iterator"),
                    ("method", "next"),
                    ("field", "delegate"),
                ],
                docs: &[(
                    "UnmodifiableIterator",
                    "Wraps an [Iterator] and makes it unmodifiable even from Java.",
                )],
                ..NONE
            },
        )],
    },
    Case {
        id: "scala",
        sample: Expect {
            defs: &[
                ("module", "com.example.library"),
                ("interface", "Item"),
                ("class", "Book"),
                ("class", "Dvd"),
                ("enum", "Status"),
                ("constant", "OnLoan"),
                ("class", "LoanException"),
                ("object", "Library"),
                ("field", "catalog"),
                ("method", "id"),
                ("method", "add"),
                ("method", "lend"),
                ("method", "describe"),
                ("method", "main"),
            ],
            refs: &[
                ("call", "println"),
                ("class", "LoanException"),
                ("implementation", "Item"),
                ("implementation", "RuntimeException"),
            ],
            docs: &[("Item", "Domain model for a lending library.")],
            not_defs: &["items", "byKind", "i"],
            ..NONE
        },
        real: &[(
            Source::Corpus("scala/scala-2.11.12/src/library/scala/Option.scala"),
            Expect {
                defs: &[
                    ("module", "scala"),
                    ("object", "Option"),
                    ("class", "Option"),
                    ("class", "Some"),
                    ("object", "None"),
                    ("class", "WithFilter"),
                    ("method", "getOrElse"),
                    ("method", "orNull"),
                    ("method", "isEmpty"),
                    ("method", "flatMap"),
                ],
                docs: &[
                    (
                        "getOrElse",
                        "Returns the option's value if the option is nonempty",
                    ),
                    ("None", "This case object represents non-existent values."),
                ],
                ..NONE
            },
        )],
    },
    Case {
        id: "haskell",
        sample: Expect {
            defs: &[
                ("module", "Ledger"),
                ("type", "Transaction"),
                ("type", "Account"),
                ("type", "LedgerError"),
                ("constructor", "Deposit"),
                ("constructor", "Transfer"),
                ("constructor", "Account"),
                ("field", "accountId"),
                ("field", "balance"),
                ("interface", "Describable"),
                ("method", "describe"),
                ("function", "applyTransaction"),
                ("function", "summarize"),
                ("function", "main"),
            ],
            refs: &[
                ("implementation", "Describable"),
                ("call", "putStrLn"),
                ("call", "insertWith"),
            ],
            docs: &[
                (
                    "applyTransaction",
                    "Apply a single transaction, failing on overdraft.",
                ),
                ("summarize", "Total amount moved per kind of transaction."),
            ],
            not_defs: &["debit", "step", "acct", "totals"],
            once: &[("function", "main")],
        },
        real: &[],
    },
    Case {
        id: "zig",
        sample: Expect {
            defs: &[
                ("type", "InventoryError"),
                ("constant", "OutOfCapacity"),
                ("enum", "Status"),
                ("constant", "in_stock"),
                ("class", "Item"),
                ("class", "Inventory"),
                ("field", "quantity"),
                ("field", "capacity"),
                ("method", "status"),
                ("method", "init"),
                ("method", "totalValue"),
                ("function", "main"),
                ("constant", "Allocator"),
            ],
            refs: &[("call", "append"), ("call", "print")],
            docs: &[(
                "InventoryError",
                "Errors that inventory operations can return.",
            )],
            not_defs: &["std", "gpa", "inv", "total", "item", "label"],
            once: &[("class", "Item"), ("class", "Inventory")],
        },
        real: &[],
    },
    Case {
        id: "erlang",
        sample: Expect {
            defs: &[
                ("module", "inventory"),
                ("function", "start_link"),
                ("function", "add"),
                ("function", "handle_call"),
                ("function", "handle_cast"),
                ("function", "receive_one"),
                ("class", "state"),
                ("field", "items"),
                ("type", "sku"),
                ("macro", "SERVER"),
                ("macro", "MAX_QTY"),
            ],
            refs: &[("implementation", "gen_server"), ("call", "update_with")],
            not_defs: &["Current", "NewItems"],
            once: &[("function", "handle_call"), ("function", "add")],
            ..NONE
        },
        real: &[
            (
                Source::Corpus("erlang/usr/lib/erlang/lib/stdlib-4.2/src/proplists.erl"),
                Expect {
                    defs: &[
                        ("module", "proplists"),
                        ("type", "property"),
                        ("type", "proplist"),
                        ("function", "unfold"),
                        ("function", "compact"),
                        ("function", "lookup"),
                        ("function", "get_value"),
                        ("function", "expand"),
                    ],
                    once: &[("function", "unfold"), ("function", "compact")],
                    ..NONE
                },
            ),
            (
                Source::Corpus("erlang/usr/lib/erlang/lib/wx-2.2.1/src/gen/wxMenuBar.erl"),
                Expect {
                    defs: &[
                        ("module", "wxMenuBar"),
                        ("function", "check"),
                        ("function", "enableTop"),
                    ],
                    docs: &[(
                        "check",
                        "See <a href=\"http://www.wxwidgets.org/manuals/2.8.12/wx_wxmenubar.html#wxmenubarcheck\">",
                    )],
                    ..NONE
                },
            ),
        ],
    },
    Case {
        id: "julia",
        sample: Expect {
            defs: &[
                ("module", "Particles"),
                ("type", "AbstractBody"),
                ("class", "Particle"),
                ("class", "Bounds"),
                ("field", "velocity"),
                ("field", "hi"),
                ("constant", "GRAVITY"),
                ("function", "show"),
                ("function", "kinetic_energy"),
                ("function", "simulate!"),
                ("variable", "ps"),
                ("variable", "settings"),
            ],
            refs: &[("call", "println"), ("call", "simulate!"), ("call", "warn")],
            docs: &[("simulate!", "Advance every particle by `steps` time steps")],
            not_defs: &["total", "step", "k", "energies"],
            ..NONE
        },
        real: &[],
    },
    Case {
        id: "perl",
        sample: Expect {
            defs: &[("function", "parse_line")],
            refs: &[
                ("call", "parse_line"),
                ("call", "GetOptions"),
                ("call", "basename"),
            ],
            not_defs: &["rec", "line", "total"],
            ..NONE
        },
        real: &[
            (
                Source::Corpus("perl/usr/share/perl/5.36.0/Time/Local.pm"),
                Expect {
                    defs: &[
                        ("module", "Time::Local"),
                        ("constant", "SECS_PER_MINUTE"),
                        ("constant", "SECS_PER_DAY"),
                        ("function", "_daygm"),
                        ("function", "timegm"),
                        ("function", "timelocal"),
                        ("function", "timelocal_posix"),
                    ],
                    ..NONE
                },
            ),
            (
                Source::Corpus("perl/usr/share/perl/5.36.0/Digest/base.pm"),
                Expect {
                    defs: &[
                        ("module", "Digest::base"),
                        ("function", "new"),
                        ("function", "addfile"),
                        ("function", "hexdigest"),
                    ],
                    docs: &[("new", "subclass is supposed to implement at least these")],
                    ..NONE
                },
            ),
        ],
    },
    Case {
        id: "css",
        sample: Expect {
            defs: &[
                ("class", "warn"),
                ("class", "active"),
                ("field", "summary"),
                ("constant", "--accent"),
                ("constant", "--gap"),
                ("function", "fade-in"),
            ],
            refs: &[("constant", "--gap"), ("constant", "--radius")],
            not_defs: &["body", "nav", "table", "from"],
            ..NONE
        },
        real: &[(
            Source::Corpus("django/django-5.2.19/django/contrib/admin/static/admin/css/base.css"),
            Expect {
                defs: &[
                    ("constant", "--primary"),
                    ("constant", "--body-fg"),
                    ("class", "module"),
                    ("field", "header"),
                ],
                refs: &[("constant", "--accent")],
                ..NONE
            },
        )],
    },
    Case {
        id: "scss",
        sample: Expect {
            defs: &[
                ("variable", "$primary"),
                ("variable", "$spacing-unit"),
                ("macro", "respond-to"),
                ("function", "spacing"),
                ("class", "card-base"),
                ("class", "card"),
                ("class", "sidebar"),
            ],
            refs: &[
                ("call", "respond-to"),
                ("call", "spacing"),
                ("class", "card-base"),
            ],
            not_defs: &["$width", "$multiplier", "__title", "hover"],
            ..NONE
        },
        real: &[(
            Source::Corpus("wordpress/usr/share/wordpress/wp-admin/css/colors/_mixins.scss"),
            Expect {
                defs: &[("macro", "button"), ("class", "active")],
                refs: &[("call", "darken")],
                docs: &[(
                    "button",
                    "Button mixin- creates a button effect with correct",
                )],
                ..NONE
            },
        )],
    },
    Case {
        id: "html",
        sample: Expect {
            defs: &[
                ("field", "summary"),
                ("field", "metrics"),
                ("field", "comment"),
                ("field", "notify"),
            ],
            refs: &[("class", "active"), ("class", "warn")],
            ..NONE
        },
        real: &[
            (
                Source::Corpus(
                    "python-doc/usr/share/doc/python3.11/html/distutils/packageindex.html",
                ),
                Expect {
                    defs: &[
                        ("field", "documentation_options"),
                        ("field", "menuToggler"),
                        ("field", "the-python-package-index-pypi"),
                    ],
                    refs: &[("class", "mobile-nav"), ("class", "related")],
                    ..NONE
                },
            ),
            (
                Source::Peer {
                    file: "main.txt",
                    test: "Tags with attributes",
                },
                Expect {
                    refs: &[("class", "a")],
                    not_defs: &["yes", "a"],
                    ..NONE
                },
            ),
        ],
    },
    Case {
        id: "yaml",
        sample: Expect {
            defs: &[
                ("field", "name"),
                ("field", "jobs"),
                ("field", "runs-on"),
                ("field", "CACHE_VERSION"),
                ("field", "continue-on-error"),
                ("field", "kind"),
                ("variable", "defaults"),
            ],
            refs: &[("variable", "defaults")],
            not_defs: &["<<", "build-and-test", "ubuntu-latest"],
            ..NONE
        },
        real: &[(
            Source::Corpus("elixir/elixir-1.14.0/.github/workflows/ci.yml"),
            Expect {
                defs: &[
                    ("field", "env"),
                    ("field", "ELIXIR_ASSERT_TIMEOUT"),
                    ("field", "test_linux"),
                    ("field", "otp_release"),
                ],
                not_defs: &["CI", "OTP-25.0"],
                ..NONE
            },
        )],
    },
    Case {
        id: "toml",
        sample: Expect {
            defs: &[
                ("module", "server"),
                ("module", "database.replicas"),
                ("module", "warehouses"),
                ("field", "title"),
                ("field", "host"),
                ("field", "enabled"),
                ("field", "\"bulk-import\""),
                ("field", "experimental.search"),
            ],
            not_defs: &["North", "info"],
            once: &[("module", "server")],
            ..NONE
        },
        real: &[(
            Source::Corpus("django/django-5.2.19/pyproject.toml"),
            Expect {
                defs: &[
                    ("module", "build-system"),
                    ("module", "project"),
                    ("module", "project.optional-dependencies"),
                    ("field", "requires-python"),
                    ("field", "argon2"),
                ],
                ..NONE
            },
        )],
    },
    Case {
        id: "json",
        sample: Expect {
            defs: &[
                ("field", "name"),
                ("field", "maintainers"),
                ("field", "certFile"),
                ("field", "SKU-4471"),
                ("field", "emptyObject"),
            ],
            not_defs: &["inventory-service", "postgres"],
            ..NONE
        },
        real: &[
            (
                Source::Corpus("webpack/package/schemas/plugins/BannerPlugin.json"),
                Expect {
                    defs: &[
                        ("field", "definitions"),
                        ("field", "BannerFunction"),
                        ("field", "Rule"),
                        ("field", "tsType"),
                    ],
                    not_defs: &["Function", "RegExp"],
                    ..NONE
                },
            ),
            (
                Source::Peer {
                    file: "main.txt",
                    test: "Comments",
                },
                Expect {
                    defs: &[("field", "a"), ("field", "b"), ("field", "c")],
                    not_defs: &["2"],
                    ..NONE
                },
            ),
        ],
    },
    Case {
        id: "make",
        sample: Expect {
            defs: &[
                ("variable", "CC"),
                ("variable", "CFLAGS"),
                ("variable", "SOURCES"),
                ("variable", "VERSION"),
                ("function", "all"),
                ("function", "clean"),
                ("function", "install"),
                ("macro", "print_var"),
            ],
            refs: &[("variable", "SRC_DIR"), ("variable", "TARGET")],
            not_defs: &[".PHONY", "LDFLAGS"],
            once: &[("variable", "CFLAGS")],
            ..NONE
        },
        real: &[(
            Source::Corpus("elixir/elixir-1.14.0/Makefile"),
            Expect {
                defs: &[
                    ("variable", "PREFIX"),
                    ("variable", "ELIXIRC"),
                    ("macro", "CHECK_ERLANG_RELEASE"),
                    ("function", "compile"),
                    ("function", "elixir"),
                    ("function", "install"),
                ],
                docs: &[("elixir", "Since Mix depends on EEx and EEx depends on Mix,")],
                not_defs: &[".PHONY", ".NOTPARALLEL"],
                ..NONE
            },
        )],
    },
    Case {
        id: "sql",
        sample: Expect {
            defs: &[
                ("class", "warehouses"),
                ("class", "items"),
                ("field", "code"),
                ("field", "warehouse_id"),
                ("field", "discontinued"),
            ],
            refs: &[("class", "items"), ("class", "warehouses"), ("call", "SUM")],
            docs: &[(
                "warehouses",
                "Schema and queries for the inventory database",
            )],
            not_defs: &["w", "i", "item_count"],
            ..NONE
        },
        real: &[],
    },
    Case {
        id: "hcl",
        sample: Expect {
            defs: &[
                ("variable", "environment"),
                ("variable", "instance_count"),
                ("constant", "name_prefix"),
                ("constant", "common_tags"),
                ("class", "web"),
                ("class", "app"),
                ("field", "instance_ips"),
                ("field", "tagged"),
            ],
            refs: &[
                ("variable", "environment"),
                ("constant", "common_tags"),
                ("call", "merge"),
            ],
            not_defs: &["aws", "terraform", "ingress", "type", "default"],
            ..NONE
        },
        real: &[],
    },
    Case {
        id: "nix",
        sample: Expect {
            defs: &[
                ("function", "mkVersion"),
                ("variable", "version"),
                ("variable", "commonInputs"),
                ("variable", "configFile"),
                ("field", "package"),
                ("field", "shell"),
                ("field", "cargoLock.lockFile"),
            ],
            refs: &[
                ("call", "mkVersion"),
                ("call", "writeText"),
                ("call", "mkShell"),
            ],
            docs: &[(
                "mkVersion",
                "Helper to build a version string with a suffix",
            )],
            not_defs: &["base", "suffix", "pkgs"],
            ..NONE
        },
        real: &[],
    },
    Case {
        id: "proto",
        sample: Expect {
            defs: &[
                ("module", "warehouse.inventory.v1"),
                ("enum", "Condition"),
                ("constant", "CONDITION_NEW"),
                ("class", "Money"),
                ("class", "Item"),
                ("class", "Dimensions"),
                ("field", "quantity_by_site"),
                ("field", "supplier_id"),
                ("field", "origin"),
                ("interface", "InventoryService"),
                ("method", "GetItem"),
                ("method", "WatchItems"),
            ],
            refs: &[
                ("type", "Money"),
                ("type", "Timestamp"),
                ("type", "ListItemsResponse"),
            ],
            docs: &[("Condition", "Physical condition of a stock item.")],
            ..NONE
        },
        real: &[(
            Source::Corpus("protobuf/protobuf-3.21.12/src/google/protobuf/api.proto"),
            Expect {
                defs: &[
                    ("module", "google.protobuf"),
                    ("class", "Api"),
                    ("class", "Method"),
                    ("class", "Mixin"),
                    ("field", "request_type_url"),
                    ("field", "source_context"),
                ],
                refs: &[("type", "SourceContext"), ("type", "Syntax")],
                docs: &[
                    (
                        "Api",
                        "Api is a light-weight descriptor for an API Interface.",
                    ),
                    ("request_type_url", "A URL of the input message type."),
                ],
                ..NONE
            },
        )],
    },
    Case {
        id: "graphql",
        sample: Expect {
            defs: &[
                ("type", "DateTime"),
                ("macro", "auth"),
                ("enum", "Role"),
                ("constant", "MEMBER"),
                ("interface", "Node"),
                ("class", "Book"),
                ("class", "ReviewInput"),
                ("type", "SearchResult"),
                ("field", "publishedYear"),
                ("field", "bookId"),
                ("function", "BookSummary"),
                ("function", "SearchBooks"),
                ("function", "Rate"),
            ],
            refs: &[
                ("implementation", "Node"),
                ("type", "ReviewConnection"),
                ("class", "Book"),
                ("call", "BookSummary"),
            ],
            docs: &[("Book", "A book that can be discussed by a club.")],
            not_defs: &["term", "withReviews"],
            ..NONE
        },
        real: &[],
    },
    Case {
        id: "cmake",
        sample: Expect {
            defs: &[
                ("module", "Inventory"),
                ("variable", "INVENTORY_BUILD_TESTS"),
                ("variable", "INVENTORY_SOURCES"),
                ("class", "inventory"),
                ("function", "inventory_add_tool"),
                ("macro", "log_var"),
            ],
            refs: &[
                ("call", "inventory_add_tool"),
                ("call", "target_link_libraries"),
                ("variable", "CMAKE_BUILD_TYPE"),
            ],
            not_defs: &["${name}", "${test_name}", "VERSION"],
            ..NONE
        },
        real: &[
            (
                Source::Corpus("protobuf/protobuf-3.21.12/cmake/examples.cmake"),
                Expect {
                    defs: &[
                        ("function", "add_examples_build"),
                        ("variable", "protobuf_BUILD_EXAMPLES_MULTITEST"),
                    ],
                    refs: &[
                        ("call", "add_examples_build"),
                        ("call", "ExternalProject_Add"),
                    ],
                    docs: &[(
                        "add_examples_build",
                        "Internal utility function: Create a custom target",
                    )],
                    ..NONE
                },
            ),
            (
                Source::Corpus("protobuf/protobuf-3.21.12/cmake/libprotoc.cmake"),
                Expect {
                    defs: &[
                        ("variable", "libprotoc_files"),
                        ("variable", "libprotoc_headers"),
                        ("class", "libprotoc"),
                    ],
                    ..NONE
                },
            ),
        ],
    },
    Case {
        id: "objc",
        sample: Expect {
            defs: &[
                ("type", "TaskPriority"),
                ("constant", "TaskPriorityHigh"),
                ("class", "Task"),
                ("class", "TaskQueue"),
                ("field", "name"),
                ("field", "completion"),
                ("method", "initWithName"),
                ("method", "description"),
                ("method", "enqueue"),
                ("method", "drainWithError"),
                ("function", "main"),
            ],
            refs: &[
                ("class", "NSObject"),
                ("call", "addObject"),
                ("call", "errorWithDomain"),
                ("call", "NSLog"),
            ],
            docs: &[(
                "TaskPriority",
                "A small task queue with priorities and completion callbacks.",
            )],
            not_defs: &["count", "task", "queue"],
            ..NONE
        },
        real: &[(
            Source::Corpus("protobuf/protobuf-3.21.12/objectivec/GPBExtensionRegistry.m"),
            Expect {
                defs: &[
                    ("class", "GPBExtensionRegistry"),
                    ("method", "init"),
                    ("method", "copyWithZone"),
                    ("method", "addExtension"),
                    ("method", "extensionForDescriptor"),
                    ("function", "CopyKeyValue"),
                ],
                ..NONE
            },
        )],
    },
    Case {
        id: "fish",
        sample: Expect {
            defs: &[
                ("function", "proj"),
                ("function", "clean_branches"),
                ("function", "count_lines"),
                ("function", "ll"),
                ("variable", "PROJECTS_DIR"),
                ("variable", "EDITOR"),
                ("variable", "default_branches"),
            ],
            refs: &[("call", "git"), ("call", "echo")],
            docs: &[("proj", "Jump to a project directory")],
            not_defs: &["target", "remote", "total", "main", "-g"],
            ..NONE
        },
        real: &[],
    },
    Case {
        id: "powershell",
        sample: Expect {
            defs: &[
                ("function", "Get-SizeLabel"),
                ("class", "CleanupResult"),
                ("method", "CleanupResult"),
                ("field", "$Path"),
                ("variable", "$summary"),
                ("variable", "$patterns"),
            ],
            refs: &[
                ("call", "Get-ChildItem"),
                ("call", "Write-Host"),
                ("call", "AddDays"),
            ],
            not_defs: &["$files", "$result", "$ext"],
            ..NONE
        },
        real: &[(
            Source::Corpus(
                "protobuf/protobuf-3.21.12/kokoro/release/python/windows/install_python_interpreters.ps1",
            ),
            Expect {
                defs: &[
                    ("function", "Install-Python"),
                    ("variable", "$Python38x86Config"),
                    ("variable", "$Python310x64Config"),
                ],
                ..NONE
            },
        )],
    },
    Case {
        id: "groovy",
        sample: Expect {
            defs: &[
                ("module", "com.example.reports"),
                ("class", "Sale"),
                ("class", "ReportBuilder"),
                ("field", "region"),
                ("field", "minAmount"),
                ("method", "toString"),
                ("method", "load"),
                ("method", "totalsByRegion"),
                ("function", "label"),
                ("variable", "builder"),
            ],
            refs: &[
                ("call", "println"),
                ("call", "topSales"),
                ("class", "JsonSlurper"),
            ],
            docs: &[("Sale", "Builds a monthly sales report from a JSON export.")],
            not_defs: &["data", "totals", "i"],
            ..NONE
        },
        real: &[(
            Source::Corpus("vision-camera/package/android/build.gradle"),
            Expect {
                defs: &[
                    ("function", "reactNativeArchitectures"),
                    ("function", "isNewArchitectureEnabled"),
                    ("function", "getExtOrDefault"),
                ],
                ..NONE
            },
        )],
    },
    Case {
        id: "starlark",
        sample: Expect {
            defs: &[
                ("constant", "_DEFAULT_COPTS"),
                ("function", "_grammar_name"),
                ("function", "_tree_sitter_grammar_impl"),
                ("function", "tree_sitter_grammar"),
                ("function", "grammar_suite"),
            ],
            refs: &[("call", "load"), ("call", "declare_file"), ("call", "fail")],
            docs: &[
                (
                    "_grammar_name",
                    "Derive the grammar name from a parser.c path.",
                ),
                (
                    "grammar_suite",
                    "Declare one grammar target per language plus a filegroup.",
                ),
            ],
            not_defs: &["parts", "name", "targets", "out"],
            ..NONE
        },
        real: &[
            (
                Source::Corpus("protobuf/protobuf-3.21.12/protobuf.bzl"),
                Expect {
                    defs: &[
                        ("function", "_GetPath"),
                        ("function", "_proto_gen_impl"),
                        ("function", "proto_gen"),
                        ("function", "cc_proto_library"),
                        ("function", "py_proto_library"),
                    ],
                    docs: &[(
                        "_proto_gen_impl",
                        "General implementation for generating protos",
                    )],
                    ..NONE
                },
            ),
            (
                Source::Corpus("protobuf/protobuf-3.21.12/BUILD.bazel"),
                Expect {
                    defs: &[
                        ("class", "protobuf_lite"),
                        ("class", "protobuf"),
                        ("class", "well_known_protos"),
                        ("class", "any_proto"),
                    ],
                    ..NONE
                },
            ),
        ],
    },
    Case {
        id: "d",
        sample: Expect {
            defs: &[
                ("module", "wordfreq"),
                ("enum", "SortOrder"),
                ("constant", "byCount"),
                ("class", "Entry"),
                ("class", "FrequencyTable"),
                ("field", "word"),
                ("field", "minLength"),
                ("method", "toString"),
                ("method", "this"),
                ("method", "feed"),
                ("method", "top"),
                ("function", "main"),
            ],
            refs: &[
                ("call", "writefln"),
                ("call", "enforce"),
                ("class", "FrequencyTable"),
            ],
            docs: &[(
                "wordfreq",
                "Word frequency counter with a small ranking API.",
            )],
            not_defs: &["table", "lines", "ratio", "evens", "w", "entries"],
            ..NONE
        },
        real: &[],
    },
    Case {
        id: "fortran",
        sample: Expect {
            defs: &[
                ("module", "particles"),
                ("module", "simulate"),
                ("constant", "dp"),
                ("constant", "gravity"),
                ("class", "particle_t"),
                ("field", "vx"),
                ("field", "label"),
                ("function", "init_particles"),
                ("function", "step"),
                ("function", "kinetic_energy"),
            ],
            refs: &[
                ("call", "init_particles"),
                ("class", "particle_t"),
                ("module", "particles"),
            ],
            docs: &[(
                "particles",
                "Simple particle simulation module and driver program",
            )],
            not_defs: &["i", "ierr", "total", "e"],
            ..NONE
        },
        real: &[(
            Source::Corpus("golang-src/usr/share/go-1.19/misc/cgo/fortran/answer.f90"),
            Expect {
                defs: &[("function", "the_answer")],
                refs: &[("module", "iso_c_binding")],
                not_defs: &["j"],
                ..NONE
            },
        )],
    },
    Case {
        id: "nim",
        sample: Expect {
            defs: &[
                ("constant", "TaxPercent"),
                ("constant", "FreeShippingFrom"),
                ("variable", "ordersPriced"),
                ("function", "subtotal"),
                ("function", "taxFor"),
                ("function", "formatCents"),
                ("function", "priceOrder"),
                ("function", "main"),
            ],
            refs: &[
                ("call", "floorDiv"),
                ("call", "priceOrder"),
                ("call", "alignLeft"),
            ],
            not_defs: &["raw", "euros", "total", "first", "result"],
            ..NONE
        },
        real: &[],
    },
    Case {
        id: "vim",
        sample: Expect {
            defs: &[
                ("variable", "g:loaded_tidy"),
                ("variable", "s:defaults"),
                ("function", "s:TrimTrailing"),
                ("function", "s:ToggleOption"),
                ("function", "tidy#Run"),
                ("macro", "TidyTrim"),
                ("macro", "TidyToggle"),
                ("module", "tidy"),
            ],
            refs: &[
                ("call", "s:TrimTrailing"),
                ("call", "tidy#Run"),
                ("call", "winsaveview"),
            ],
            docs: &[(
                "s:TrimTrailing",
                "Remove trailing whitespace while keeping the cursor in place.",
            )],
            not_defs: &["l:view", "l:count", "END"],
            ..NONE
        },
        real: &[
            (
                Source::Corpus("libruby/usr/lib/ruby/gems/3.1.0/gems/debug-1.4.0/lib/debug/bp.vim"),
                Expect {
                    defs: &[
                        ("variable", "g:rdb_bps"),
                        ("function", "SET_BP"),
                        ("function", "UPDATE_BPS"),
                        ("function", "s:ruby_bp_settings"),
                    ],
                    refs: &[("call", "sign_place"), ("call", "bufname")],
                    ..NONE
                },
            ),
            (
                Source::Corpus("protobuf/protobuf-3.21.12/editors/proto.vim"),
                Expect {
                    defs: &[("macro", "HiLink"), ("variable", "b:current_syntax")],
                    ..NONE
                },
            ),
        ],
    },
];

macro_rules! language_tests {
    ($($id:ident),* $(,)?) => {
        $(
            #[test]
            fn $id() {
                let case = CASES
                    .iter()
                    .find(|c| c.id == stringify!($id))
                    .expect("a case for every language test");
                run(case);
            }
        )*

        /// Every bundled language has a test, and every test a bundled query.
        #[test]
        fn every_bundled_language_is_tested() {
            let tested = [$(stringify!($id)),*];
            for id in cst_tags::bundled::languages() {
                assert!(tested.contains(&id), "{id}: bundled but not tested");
                assert!(CASES.iter().any(|c| c.id == id), "{id}: no case");
            }
            for id in tested {
                assert!(
                    cst_tags::bundled::tags_query(id).is_some(),
                    "{id}: tested but not bundled"
                );
            }
        }
    };
}

language_tests![
    c_sharp, bash, kotlin, scala, haskell, zig, erlang, julia, perl, css, scss, html, yaml, toml,
    json, make, sql, hcl, nix, proto, graphql, cmake, objc, fish, powershell, groovy, d, fortran,
    starlark, nim, vim,
];

/// At least 24 bundled queries, each for a grammar whose crate ships no
/// usable one: none at all, or one tree-sitter-tags rejects (C#'s).
#[test]
fn bundled_set() {
    let ids: Vec<_> = cst_tags::bundled::languages().collect();
    assert!(ids.len() >= 24, "only {} bundled tags queries", ids.len());
    for id in &ids {
        let grammar = cst_grammars::by_id(id).unwrap_or_else(|| panic!("{id}: unknown id"));
        if let Some(shipped) = grammar.queries().tags {
            let language = grammar.language().unwrap();
            assert!(
                TagsConfiguration::new(language, shipped, "").is_err(),
                "{id}: the grammar crate ships a usable tags query; bundling another is pointless"
            );
        }
    }
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), ids.len(), "an id is bundled twice");
}
