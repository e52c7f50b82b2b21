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
