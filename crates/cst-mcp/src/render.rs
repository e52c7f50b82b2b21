//! Answers as the model reads them (compact lines) and as structured
//! content (JSON), and the pagination of lists.

use cst_workspace::Workspace;
use cst_workspace::answers::OutlineOut;
use serde_json::{Value, json};

/// Which items of a list to return.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Page {
    pub offset: usize,
    pub limit: usize,
}

impl Page {
    /// The index after the page's last item.
    pub(crate) fn end(self) -> usize {
        self.offset.saturating_add(self.limit)
    }
}

/// A page of `items` under `key`: the text (one line per item, from
/// `line`) and the value (`{key: [...], total, offset, next_offset}`).
pub(crate) fn list(
    key: &str,
    items: Vec<Value>,
    page: Page,
    line: impl Fn(&Value) -> String,
) -> (String, Value) {
    let total = items.len();
    let shown: Vec<Value> = items
        .into_iter()
        .skip(page.offset)
        .take(page.limit)
        .collect();
    let next = (page.end() < total).then_some(page.end());
    let mut text: String = shown.iter().map(|v| line(v) + "\n").collect();
    if shown.is_empty() {
        text.push_str(&format!("no {key}\n"));
    }
    if let Some(n) = next {
        text.push_str(&format!(
            "… more: call again with offset {n} ({} of at least {total} shown)\n",
            shown.len()
        ));
    }
    let mut value = json!({ key: shown, "offset": page.offset, "total_at_least": total });
    if let Some(n) = next {
        value["next_offset"] = n.into();
    }
    (text.trim_end().to_string(), value)
}

/// A symbol of the index as JSON (path relative to the root).
pub(crate) fn symbol_json(ws: &Workspace, s: &cst_symbols::Symbol) -> Value {
    json!({
        "name": s.name,
        "kind": s.kind,
        "path": ws.rel(&s.path),
        "line": s.line,
        "column": s.column + 1,
        "end_line": s.end_line,
        "definition": s.is_definition,
    })
}

/// `path:line kind name`.
pub(crate) fn symbol_line(v: &Value) -> String {
    format!(
        "{}:{} {} {}",
        v["path"].as_str().unwrap_or(""),
        v["line"],
        v["kind"].as_str().unwrap_or(""),
        v["name"].as_str().unwrap_or("")
    )
}

/// An outline, indented by nesting: `kind name  Lstart-end`.
pub(crate) fn outline(o: &OutlineOut) -> String {
    fn items(out: &mut String, list: &[cst_workspace::answers::OutlineItemOut], depth: usize) {
        for i in list {
            out.push_str(&format!(
                "{}{} {}  L{}-{}\n",
                "  ".repeat(depth),
                i.kind,
                i.name,
                i.start.line,
                i.end.line
            ));
            items(out, &i.children, depth + 1);
        }
    }
    let mut out = format!("{} ({})\n", o.path, o.language);
    items(&mut out, &o.items, 1);
    out.trim_end().to_string()
}

/// A file's definitions, depth first, as symbol values.
pub(crate) fn flatten_outline(o: &OutlineOut) -> Vec<Value> {
    fn walk(out: &mut Vec<Value>, path: &str, list: &[cst_workspace::answers::OutlineItemOut]) {
        for i in list {
            out.push(json!({
                "name": i.name,
                "kind": i.kind,
                "path": path,
                "line": i.start.line,
                "column": i.start.column,
                "end_line": i.end.line,
                "definition": true,
            }));
            walk(out, path, &i.children);
        }
    }
    let mut out = Vec::new();
    walk(&mut out, &o.path, &o.items);
    out
}

/// `path:line:column @capture text` for each capture of a match.
pub(crate) fn match_line(v: &Value) -> String {
    let path = v["path"].as_str().unwrap_or("");
    let caps = v["captures"].as_array().cloned().unwrap_or_default();
    caps.iter()
        .map(|c| {
            let text: String = c["text"]
                .as_str()
                .unwrap_or("")
                .lines()
                .next()
                .unwrap_or("")
                .chars()
                .take(100)
                .collect();
            format!(
                "{path}:{}:{} @{} {text}",
                c["start"]["line"],
                c["start"]["column"],
                c["name"].as_str().unwrap_or("")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A chunk: a header line and its text.
pub(crate) fn chunk_text(v: &Value) -> String {
    let symbols: Vec<String> = v["symbol_path"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| s["name"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default();
    format!(
        "── {} lines {}-{}{}\n{}",
        v["path"].as_str().unwrap_or(""),
        v["lines"][0],
        v["lines"][1],
        if symbols.is_empty() {
            String::new()
        } else {
            format!(" in {}", symbols.join("::"))
        },
        v["text"].as_str().unwrap_or("")
    )
}

/// The status in a few lines.
pub(crate) fn status(v: &Value) -> String {
    let mut out = format!(
        "root {}\nready {} ({})\n",
        v["root"].as_str().unwrap_or(""),
        v["ready"],
        v["state"].as_str().unwrap_or("")
    );
    if let Some(run) = v.get("last_run").filter(|r| !r.is_null()) {
        out.push_str(&format!(
            "last reconcile: {} files, {} parsed, {} ms\n",
            run["files"], run["parsed"], run["millis"]
        ));
    }
    if let Some(w) = v.get("watch").filter(|w| !w.is_null()) {
        out.push_str(&format!(
            "watching: {} ({} directories)\n",
            w["mode"].as_str().unwrap_or(""),
            w["watched_dirs"]
        ));
    }
    out.trim_end().to_string()
}
