//! The source directory of a package of the workspace's lock, as `cargo
//! metadata` names it. One file, included with `#[path]` by the tests and
//! benchmarks that build grammars from their crates' sources (cst-loader's
//! and cst-cli's tests, the `loaded` benchmark, xtask's generator tests).

use std::path::PathBuf;
use std::sync::OnceLock;

/// The directory holding package `name`'s `Cargo.toml`, or why not.
/// `cargo metadata` runs once per process.
pub fn package_dir(name: &str) -> Result<PathBuf, String> {
    static METADATA: OnceLock<Result<serde_json::Value, String>> = OnceLock::new();
    let meta = METADATA.get_or_init(metadata).as_ref()?;
    let manifest = meta["packages"]
        .as_array()
        .and_then(|packages| packages.iter().find(|p| p["name"] == name))
        .and_then(|p| p["manifest_path"].as_str())
        .ok_or_else(|| format!("{name} is not in the lock"))?;
    std::path::Path::new(manifest)
        .parent()
        .map(PathBuf::from)
        .ok_or_else(|| format!("{manifest} has no parent directory"))
}

fn metadata() -> Result<serde_json::Value, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--offline"])
        // Only the host's packages: a fresh registry has no others (an
        // Android-only dependency of the lock, say), and offline they
        // cannot be fetched.
        .args(host_filter())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .map_err(|e| format!("cargo metadata: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo metadata: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("cargo metadata: {e}"))
}

/// `--filter-platform` and the host's target triple (as `rustc -vV` prints
/// it); nothing if rustc does not say.
fn host_filter() -> Vec<String> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    std::process::Command::new(rustc)
        .arg("-vV")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))
        })
        .map(|host| vec!["--filter-platform".to_owned(), host])
        .unwrap_or_default()
}
