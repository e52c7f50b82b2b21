//! Replays every example of `docs/API.md` against a real server on the
//! workspace the document describes, in the document's order, and checks
//! each answer: status, content type and body. In JSON bodies a string
//! `"*"` matches any value (generations, timings); everything else must be
//! equal, keys included. `CST_API_DOCS_PRINT=1` prints the real answers.

use crate::common::Server;

struct Example {
    line: usize,
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: String,
    status: u16,
    content_type: String,
    expected: String,
}

/// The fenced blocks of `text`: (line, info string, content).
fn blocks(text: &str) -> Vec<(usize, String, String)> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((n, l)) = lines.next() {
        if let Some(info) = l.strip_prefix("```")
            && !info.is_empty()
        {
            let mut content = String::new();
            for (_, l) in lines.by_ref() {
                if l == "```" {
                    break;
                }
                content.push_str(l);
                content.push('\n');
            }
            out.push((n + 1, info.to_string(), content));
        }
    }
    out
}

fn parse(text: &str) -> (Vec<(String, String)>, Vec<Example>) {
    let mut files = Vec::new();
    let mut examples = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (line, info, content) in blocks(text) {
        if let Some(p) = info.strip_prefix("file ") {
            files.push((p.trim().to_string(), content));
        } else if info == "http" {
            assert!(
                pending.is_none(),
                "API.md:{line}: a request without a response before it"
            );
            pending = Some((line, content));
        } else if let Some(r) = info.strip_prefix("response ") {
            let (req_line, req) = pending
                .take()
                .unwrap_or_else(|| panic!("API.md:{line}: a response without a request"));
            let mut parts = r.splitn(2, ' ');
            let status: u16 = parts.next().unwrap().parse().unwrap();
            let content_type = parts.next().unwrap_or("").trim().to_string();
            let (head, body) = req.split_once("\n\n").unwrap_or((req.as_str(), ""));
            let mut head_lines = head.lines();
            let first = head_lines.next().unwrap();
            let (method, path) = first.split_once(' ').unwrap();
            let headers = head_lines
                .map(|h| {
                    let (k, v) = h.split_once(": ").unwrap();
                    (k.to_string(), v.to_string())
                })
                .collect();
            examples.push(Example {
                line: req_line,
                method: method.to_string(),
                path: path.trim().to_string(),
                headers,
                body: body.trim_end_matches('\n').to_string(),
                status,
                content_type,
                expected: content,
            });
        }
    }
    (files, examples)
}

/// `expected` matches `actual`: equal, with `"*"` matching anything.
fn matches(expected: &serde_json::Value, actual: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (expected, actual) {
        (Value::String(s), _) if s == "*" => true,
        (Value::Object(e), Value::Object(a)) => {
            e.len() == a.len()
                && e.iter()
                    .all(|(k, v)| a.get(k).is_some_and(|x| matches(v, x)))
        }
        (Value::Array(e), Value::Array(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(x, y)| matches(x, y))
        }
        (e, a) => e == a,
    }
}

#[test]
fn every_example_of_the_api_document_holds() {
    let doc = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/API.md");
    let text = std::fs::read_to_string(&doc).unwrap();
    let (files, examples) = parse(&text);
    assert!(files.len() >= 2, "the document names its workspace");
    assert!(examples.len() >= 15, "only {} examples", examples.len());
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let s = Server::start(&refs);
    let print = std::env::var("CST_API_DOCS_PRINT").is_ok();
    let mut failures = Vec::new();
    for ex in &examples {
        let url = format!("{}{}", s.base, ex.path);
        let agent = &s.agent;
        let mut req = match ex.method.as_str() {
            "GET" => agent.get(&url).force_send_body(),
            "DELETE" => agent.delete(&url).force_send_body(),
            "POST" => agent.post(&url),
            "PUT" => agent.put(&url),
            "PATCH" => agent.patch(&url),
            m => panic!("API.md:{}: method {m}", ex.line),
        };
        for (k, v) in &ex.headers {
            req = req.header(k, v);
        }
        let mut r = req.send(&ex.body).unwrap();
        let status = r.status().as_u16();
        let ct = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let body = r.body_mut().read_to_string().unwrap();
        if print {
            println!(
                "=== API.md:{} {} {}\n{status} {ct}\n{body}\n=== end",
                ex.line, ex.method, ex.path
            );
        }
        let ok_head = status == ex.status && ct.starts_with(&ex.content_type);
        let ok_body = if ex.content_type.contains("json") {
            let parse = |t: &str| -> Vec<serde_json::Value> {
                t.lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(|l| serde_json::from_str(l).unwrap_or(serde_json::Value::Null))
                    .collect()
            };
            let (e, a) =
                if ex.content_type.contains("ndjson") {
                    (parse(&ex.expected), parse(&body))
                } else {
                    (
                        vec![serde_json::from_str(&ex.expected).unwrap_or_else(|e| {
                            panic!("API.md:{}: the example's JSON: {e}", ex.line)
                        })],
                        vec![serde_json::from_str(&body).unwrap_or(serde_json::Value::Null)],
                    )
                };
            e.len() == a.len() && e.iter().zip(&a).all(|(x, y)| matches(x, y))
        } else {
            body == ex.expected
        };
        if !(ok_head && ok_body) {
            failures.push(format!(
                "API.md:{}: {} {}\n  want {} {}\n{}\n  got {status} {ct}\n{body}",
                ex.line, ex.method, ex.path, ex.status, ex.content_type, ex.expected
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
