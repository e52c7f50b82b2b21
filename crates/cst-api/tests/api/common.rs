//! A workspace in a temporary directory served on a loopback port by the
//! real server (axum on tokio), and a real HTTP client (ureq).

use std::path::{Path, PathBuf};
use std::time::Duration;

use cst_api::{Listen, Running, ServerOptions};
use cst_workspace::discover::OpenOptions;
use cst_workspace::{Workspace, WorkspaceOptions};

pub struct Server {
    pub ws: Workspace,
    pub running: Option<Running>,
    pub base: String,
    pub _dir: tempfile::TempDir,
    pub _cache: tempfile::TempDir,
    pub token: Option<String>,
    pub agent: ureq::Agent,
}

pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: String,
    pub generation: Option<u64>,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    /// Asserts a JSON error with this status and code.
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        assert!(
            self.content_type.starts_with("application/json"),
            "error without JSON: {} {:?}",
            self.content_type,
            self.body
        );
        let v = self.json();
        assert_eq!(v["error"]["code"], code, "{v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{v}"
        );
    }
}

pub fn write_files(root: &Path, files: &[(&str, &str)]) {
    for (p, text) in files {
        let path = root.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

pub struct Setup {
    pub watch: bool,
    pub watch_options: cst_watch::WatchOptions,
    pub token: Option<String>,
    pub options: ServerOptions,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            watch: false,
            watch_options: cst_watch::WatchOptions {
                debounce: Duration::from_millis(50),
                ..cst_watch::WatchOptions::default()
            },
            token: None,
            // With a symbol index, as `cst serve` runs (it is built on the
            // first request that needs it).
            options: ServerOptions {
                listen: Listen::Tcp("127.0.0.1:0".parse().unwrap()),
                symbols: Some(std::sync::Arc::new(cst_symbols::LiveIndex::default())),
                ..ServerOptions::default()
            },
        }
    }
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

impl Server {
    pub fn start(files: &[(&str, &str)]) -> Server {
        Self::start_with(files, Setup::default())
    }

    pub fn start_with(files: &[(&str, &str)], setup: Setup) -> Server {
        let dir = tempfile::tempdir().unwrap();
        write_files(dir.path(), files);
        let cache = tempfile::tempdir().unwrap();
        let ws = Workspace::open(
            dir.path(),
            None,
            WorkspaceOptions {
                open: OpenOptions {
                    cache_dir: Some(cache.path().to_path_buf()),
                    ..OpenOptions::default()
                },
                watch: setup.watch,
                watch_options: setup.watch_options,
                ..WorkspaceOptions::default()
            },
        )
        .unwrap();
        assert!(ws.wait_ready(Duration::from_secs(120)), "never ready");
        let mut options = setup.options;
        options.token = setup.token.clone();
        let running = cst_api::start(ws.clone(), options, false).unwrap();
        let base = match running.local() {
            Listen::Tcp(a) => format!("http://{a}"),
            Listen::Unix(_) => unreachable!("tests use TCP"),
        };
        Server {
            ws,
            running: Some(running),
            base,
            _dir: dir,
            _cache: cache,
            token: setup.token,
            agent: agent(),
        }
    }

    pub fn root(&self) -> PathBuf {
        self.ws.root().to_path_buf()
    }

    fn finish(&self, r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
        let mut r = r.expect("the request got an answer");
        let status = r.status().as_u16();
        let content_type = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let generation = r
            .headers()
            .get("x-cst-generation")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let body = r.body_mut().read_to_string().expect("a UTF-8 body");
        Reply {
            status,
            content_type,
            body,
            generation,
        }
    }

    fn auth<B>(&self, req: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        match &self.token {
            Some(t) => req.header("Authorization", &format!("Bearer {t}")),
            None => req,
        }
    }

    pub fn get(&self, path: &str) -> Reply {
        let req = self.auth(self.agent.get(format!("{}{path}", self.base)));
        self.finish(req.call())
    }

    pub fn request(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &str,
    ) -> Reply {
        let url = format!("{}{path}", self.base);
        let mut req = match method {
            "POST" => self.agent.post(url),
            "PUT" => self.agent.put(url),
            "PATCH" => self.agent.patch(url),
            "DELETE" => return self.finish(self.auth(self.agent.delete(url)).call()),
            "GET" => return self.get(path),
            m => panic!("method {m}"),
        };
        if let Some(ct) = content_type {
            req = req.header("Content-Type", ct);
        }
        self.finish(self.auth(req).send(body))
    }

    pub fn post_json(&self, path: &str, body: &serde_json::Value) -> Reply {
        self.request("POST", path, Some("application/json"), &body.to_string())
    }

    /// The NDJSON records of a query.
    pub fn query(&self, body: &serde_json::Value) -> (u16, Vec<serde_json::Value>) {
        let r = self.post_json("/v1/query", body);
        if r.status != 200 {
            return (r.status, vec![r.json()]);
        }
        assert!(
            r.content_type.starts_with("application/x-ndjson"),
            "{}",
            r.content_type
        );
        let records = r
            .body
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        (r.status, records)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(r) = self.running.take() {
            r.stop();
        }
    }
}

/// tree-sitter's own S-expression of `text` in `language` (a fresh parse).
pub fn fresh_sexp(language: &str, text: &str) -> String {
    let g = cst_workspace::cst::grammars::by_id(language).unwrap();
    let tree = g.parser().unwrap().parse(text, None).unwrap();
    tree.root_node().to_sexp()
}

/// A URL-encoded query-string value.
pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Server {
    /// A watching server whose watcher may watch `max_watches` directories.
    pub fn start_budget(files: &[(&str, &str)], max_watches: usize) -> Server {
        let setup = Setup::default();
        let watch_options = cst_watch::WatchOptions {
            max_watches,
            poll_interval: Duration::from_millis(100),
            ..setup.watch_options.clone()
        };
        Self::start_with(
            files,
            Setup {
                watch: true,
                watch_options,
                ..setup
            },
        )
    }
}
