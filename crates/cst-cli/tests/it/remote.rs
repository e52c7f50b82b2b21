//! `cst remote keygen`, `cst push` and `cst pull` against a remote in a
//! directory (`file://`): the interfaces the remote issue names, with the
//! keys and the remote given the documented way (environment and
//! `cst.toml`).

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn cst(cache: &Path, args: &[&str], env: &[(&str, String)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cst"));
    c.arg("--cache-dir")
        .arg(cache)
        .args(args)
        .stdin(Stdio::null());
    for k in [
        "CST_REMOTE_URL",
        "CST_REMOTE_PUBLIC_KEY",
        "CST_REMOTE_SIGNING_KEY_FILE",
        "CST_REMOTE_BRANCH",
    ] {
        c.env_remove(k);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn workspace(dir: &Path) {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    for i in 0..12 {
        std::fs::write(
            dir.join(format!("src/m{i}.rs")),
            format!("pub fn f{i}(x: u32) -> u32 {{ x + {i} }}\n"),
        )
        .unwrap();
    }
    std::fs::write(dir.join("tool.py"), "def main():\n    return 1\n").unwrap();
}

#[test]
fn push_then_pull_warms_a_fresh_cache() {
    let keys = tempfile::tempdir().unwrap();
    let out = ok(&cst(
        keys.path(),
        &["remote", "keygen", keys.path().to_str().unwrap()],
        &[],
    ));
    let public = std::fs::read_to_string(keys.path().join("remote.pub")).unwrap();
    let public = public.trim().to_string();
    assert!(out.contains(&public), "{out}");
    // A second keygen into the same place refuses to overwrite the key.
    let again = cst(
        keys.path(),
        &["remote", "keygen", keys.path().to_str().unwrap()],
        &[],
    );
    assert!(!again.status.success());

    let remote_dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}", remote_dir.path().display());
    // Both workspaces hold the same cst.toml (the remote and its public
    // key): it is a file of the workspace too.
    let toml = format!("[remote]\nurl = \"{url}\"\npublic_key = \"{public}\"\n");
    let a = tempfile::tempdir().unwrap();
    workspace(a.path());
    std::fs::write(a.path().join("cst.toml"), &toml).unwrap();
    let a_cache = tempfile::tempdir().unwrap();
    let signing = keys.path().join("remote.key").display().to_string();

    // No signing key: a usage error, nothing written.
    let refused = cst(
        a_cache.path(),
        &["push", a.path().to_str().unwrap()],
        &[("CST_REMOTE_URL", url.clone())],
    );
    assert_eq!(refused.status.code(), Some(2));
    let pushed = ok(&cst(
        a_cache.path(),
        &["push", a.path().to_str().unwrap(), "--json"],
        &[
            ("CST_REMOTE_URL", url.clone()),
            ("CST_REMOTE_SIGNING_KEY_FILE", signing),
        ],
    ));
    let v: serde_json::Value = serde_json::from_str(&pushed).unwrap();
    assert_eq!(v["push"]["bundles"], 14, "{v}");
    assert_eq!(v["push"]["ref_updated"], true, "{v}");

    // B: the same files elsewhere; the remote and its public key from
    // cst.toml.
    let b = tempfile::tempdir().unwrap();
    workspace(b.path());
    std::fs::write(b.path().join("cst.toml"), &toml).unwrap();
    let b_cache = tempfile::tempdir().unwrap();
    let pulled = ok(&cst(
        b_cache.path(),
        &["pull", b.path().to_str().unwrap(), "--json"],
        &[],
    ));
    let v: serde_json::Value = serde_json::from_str(&pulled).unwrap();
    assert_eq!(v["pull"]["imported"], 14, "{v}");
    assert_eq!(v["parsed"], 0, "{v}");
    assert_eq!(v["files"], 14, "{v}");
    let verify = ok(&cst(
        b_cache.path(),
        &["verify", b.path().to_str().unwrap()],
        &[],
    ));
    assert!(verify.contains("0 mismatches"), "{verify}");

    // A reader with another public key refuses the ref: a miss, the
    // index parses everything, and the command succeeds.
    let c = tempfile::tempdir().unwrap();
    workspace(c.path());
    let c_cache = tempfile::tempdir().unwrap();
    let other = "11".repeat(32);
    let out = cst(
        c_cache.path(),
        &["pull", c.path().to_str().unwrap(), "--json"],
        &[("CST_REMOTE_URL", url), ("CST_REMOTE_PUBLIC_KEY", other)],
    );
    let stdout = ok(&out);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(v["pull"].is_null(), "{v}");
    assert_eq!(v["parsed"], 13, "{v}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("indexing locally"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `cst index` with `[remote]`: CI (with `write = true` and the signing
/// key) pushes what it indexed; a clone's `cst index --json` fetches
/// before parsing (`parsed` 0, `remote.fetched`), asks again for nothing
/// new, and a damaged remote is a miss with its refusals counted.
#[test]
fn index_consults_the_remote_before_parsing() {
    let keys = tempfile::tempdir().unwrap();
    ok(&cst(
        keys.path(),
        &["remote", "keygen", keys.path().to_str().unwrap()],
        &[],
    ));
    let public = std::fs::read_to_string(keys.path().join("remote.pub")).unwrap();
    let remote_dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}", remote_dir.path().display());
    let toml = format!(
        "[remote]\nurl = \"{url}\"\npublic_key = \"{}\"\nwrite = true\n",
        public.trim()
    );
    let signing = (
        "CST_REMOTE_SIGNING_KEY_FILE",
        keys.path().join("remote.key").display().to_string(),
    );

    let ci = tempfile::tempdir().unwrap();
    workspace(ci.path());
    std::fs::write(ci.path().join("cst.toml"), &toml).unwrap();
    let ci_cache = tempfile::tempdir().unwrap();
    let out = ok(&cst(
        ci_cache.path(),
        &["index", ci.path().to_str().unwrap(), "--json"],
        &[signing],
    ));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["parsed"], 14, "{v}");
    assert_eq!(v["remote"]["push"]["pushed"], 14, "{v}");

    let clone = tempfile::tempdir().unwrap();
    workspace(clone.path());
    std::fs::write(clone.path().join("cst.toml"), &toml).unwrap();
    let clone_cache = tempfile::tempdir().unwrap();
    let index = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec!["index", clone.path().to_str().unwrap(), "--json"];
        args.extend_from_slice(extra);
        // A clone has no signing key: its push is refused, reported, and
        // the index is not failed by it.
        serde_json::from_str(&ok(&cst(clone_cache.path(), &args, &[]))).unwrap()
    };
    let v = index(&[]);
    assert_eq!(v["parsed"], 0, "{v}");
    assert_eq!(v["remote"]["fetched"], 14, "{v}");
    assert_eq!(v["remote"]["rejected"], 0, "{v}");
    assert!(v["remote"]["bytes"].as_u64().unwrap() > 0, "{v}");
    // Every file indexed: nothing wanted, the remote not asked.
    let v = index(&[]);
    assert_eq!(v["remote"]["pull"]["wanted"], 0, "{v}");
    assert_eq!(v["remote"]["stats"]["requests"], 0, "{v}");
    assert_eq!(v["remote"]["fetched"], 0, "{v}");
    let v = index(&["--no-remote"]);
    assert!(v.get("remote").is_none(), "{v}");
    // `cst stats` shows what the remote did for the last command using it.
    let stats = ok(&cst(
        clone_cache.path(),
        &["stats", clone.path().to_str().unwrap(), "--json"],
        &[],
    ));
    let s: serde_json::Value = serde_json::from_str(&stats).unwrap();
    assert_eq!(s["remote"]["command"], "index", "{s}");
    assert_eq!(s["remote"]["report"]["pull"]["wanted"], 0, "{s}");

    // A flipped byte in the remote's pack: refused and counted; the index
    // parses.
    flip_a_pack_byte(remote_dir.path());
    let other = tempfile::tempdir().unwrap();
    workspace(other.path());
    std::fs::write(other.path().join("cst.toml"), &toml).unwrap();
    let other_cache = tempfile::tempdir().unwrap();
    let out = ok(&cst(
        other_cache.path(),
        &[
            "index",
            other.path().to_str().unwrap(),
            "--json",
            "--verify-content",
        ],
        &[],
    ));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["parsed"], 14, "{v}");
    assert_eq!(v["remote"]["fetched"], 0, "{v}");
    assert!(v["remote"]["rejected"].as_u64().unwrap() >= 1, "{v}");
    let verify = ok(&cst(
        other_cache.path(),
        &["verify", other.path().to_str().unwrap()],
        &[],
    ));
    assert!(verify.contains("0 mismatches"), "{verify}");
}

/// `cst push --compact` and `cst remote gc`: after two pushes (the second
/// a delta), a compacting push lists one pack; the collection deletes
/// what no ref names (not within the grace period, not without the
/// key), and a fresh clone still pulls everything with 0 parses.
#[test]
fn compaction_and_gc_keep_what_the_ref_names() {
    let keys = tempfile::tempdir().unwrap();
    ok(&cst(
        keys.path(),
        &["remote", "keygen", keys.path().to_str().unwrap()],
        &[],
    ));
    let public = std::fs::read_to_string(keys.path().join("remote.pub"))
        .unwrap()
        .trim()
        .to_string();
    let signing = keys.path().join("remote.key").display().to_string();
    let remote_dir = tempfile::tempdir().unwrap();
    let env = [
        (
            "CST_REMOTE_URL",
            format!("file://{}", remote_dir.path().display()),
        ),
        ("CST_REMOTE_PUBLIC_KEY", public),
        ("CST_REMOTE_SIGNING_KEY_FILE", signing),
    ];
    let a = tempfile::tempdir().unwrap();
    workspace(a.path());
    let a_cache = tempfile::tempdir().unwrap();
    let dir = a.path().to_str().unwrap();
    let push = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec!["push", dir, "--json"];
        args.extend_from_slice(extra);
        serde_json::from_str(&ok(&cst(a_cache.path(), &args, &env))).unwrap()
    };
    let first = push(&[]);
    assert_eq!(first["push"]["pushed"], 13, "{first}");
    std::fs::write(a.path().join("src/m0.rs"), "pub fn changed() {}\n").unwrap();
    let second = push(&[]);
    assert_eq!(
        (&second["push"]["pushed"], &second["push"]["compacted"]),
        (&serde_json::json!(1), &serde_json::json!(false)),
        "{second}"
    );
    let third = push(&["--compact"]);
    assert_eq!(third["push"]["compacted"], true, "{third}");
    assert_eq!(third["push"]["pushed"], 13, "{third}");
    assert_eq!(third["push"]["packs_dropped"], 2, "{third}");

    let gc = |extra: &[&str], env: &[(&str, String)]| {
        let mut args = vec!["remote", "gc", dir, "--json"];
        args.extend_from_slice(extra);
        cst(a_cache.path(), &args, env)
    };
    // Without the signing key: refused, nothing deleted.
    assert_eq!(
        gc(&["--grace-hours", "0"], &env[..2]).status.code(),
        Some(2)
    );
    let young: serde_json::Value = serde_json::from_str(&ok(&gc(&[], &env))).unwrap();
    assert_eq!(young["gc"]["deleted"], 0, "{young}");
    let done: serde_json::Value =
        serde_json::from_str(&ok(&gc(&["--grace-hours", "0"], &env))).unwrap();
    // Two old packs, their indexes, two old manifests.
    assert_eq!(done["gc"]["deleted"], 6, "{done}");

    // A fresh clone of the current files: everything from the one pack.
    let b_cache = tempfile::tempdir().unwrap();
    let v: serde_json::Value = serde_json::from_str(&ok(&cst(
        b_cache.path(),
        &["index", dir, "--json"],
        &env[..2],
    )))
    .unwrap();
    assert_eq!(
        (&v["parsed"], &v["files"]),
        (&serde_json::json!(0), &serde_json::json!(13)),
        "{v}"
    );
    let verify = ok(&cst(b_cache.path(), &["verify", dir], &[]));
    assert!(verify.contains("0 mismatches"), "{verify}");
}

/// Flips the middle byte of a pack of the `file://` remote in `dir`.
pub(crate) fn flip_a_pack_byte(dir: &Path) {
    let pack = std::fs::read_dir(dir.join("cst/v1/packs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut bytes = std::fs::read(&pack).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 1;
    std::fs::write(&pack, &bytes).unwrap();
}
