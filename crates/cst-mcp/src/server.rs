//! The tools.
//!
//! Each tool runs the workspace's synchronous calls on the runtime's
//! blocking pool and answers with a compact text and the same answer as
//! structured content (`render.rs` makes both). A failure of the tool
//! itself (a path outside the workspace, a bad query) is a tool result
//! marked as an error, which the model reads; malformed arguments are a
//! protocol error (rmcp answers `invalid_params`), as MCP asks.

use std::sync::Arc;

use cst_workspace::{QueryRecord, QueryRequest, Workspace};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, Implementation, ServerCapabilities, ServerConfig};
use rmcp::{ServerHandler, tool, tool_handler, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::McpOptions;
use crate::render::{self, Page};

/// The MCP server of one workspace (cheap to clone: state is shared).
#[derive(Clone)]
pub struct CstServer {
    inner: Arc<Inner>,
    tool_router: ToolRouter<CstServer>,
}

struct Inner {
    ws: Workspace,
    options: McpOptions,
    symbols: Arc<cst_symbols::LiveIndex>,
}

impl std::fmt::Debug for CstServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CstServer")
            .field("root", &self.inner.ws.root())
            .finish_non_exhaustive()
    }
}

/// A tool's outcome before it becomes a result: the text and the
/// structured answer, or a message for the model.
type Outcome = Result<(String, Value), String>;

/// `outline` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct OutlineArgs {
    /// The file, relative to the workspace root (or absolute inside it).
    pub path: String,
}

/// `symbols` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SymbolsArgs {
    /// A name to look for among the workspace's definitions: exact, prefix,
    /// substring and fuzzy matches, best first.
    pub name: Option<String>,
    /// A file whose definitions to list (when no `name` is given).
    pub path: Option<String>,
    /// Items to skip (pagination).
    pub offset: Option<usize>,
    /// Items to return at most.
    pub limit: Option<usize>,
}

/// `definition` and `references` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct NameArgs {
    /// The identifier.
    pub name: String,
    /// The file asking: candidates in it, then in its directory, come first.
    pub from: Option<String>,
    /// Items to skip (pagination).
    pub offset: Option<usize>,
    /// Items to return at most.
    pub limit: Option<usize>,
}

/// `query` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct QueryArgs {
    /// A tree-sitter query pattern, e.g. `(function_item name: (identifier) @name)`.
    pub pattern: Option<String>,
    /// Or the name of a query the language ships (`highlights`, `tags`, …).
    pub query: Option<String>,
    /// Files or directories to search, relative to the root (default: all).
    #[serde(default)]
    pub paths: Vec<String>,
    /// Glob patterns the files must match.
    #[serde(default)]
    pub globs: Vec<String>,
    /// Only files of this language (required with a pattern when the
    /// files are of several languages).
    pub language: Option<String>,
    /// Only this capture.
    pub capture: Option<String>,
    /// Matches to skip (pagination).
    pub offset: Option<usize>,
    /// Matches to return at most.
    pub limit: Option<usize>,
}

/// `chunks` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ChunksArgs {
    /// The file.
    pub path: String,
    /// Only the chunks inside this definition (a name on their symbol path).
    pub symbol: Option<String>,
    /// The budget per chunk in non-whitespace characters (default 1500).
    pub max_chars: Option<usize>,
    /// Chunks to skip (pagination).
    pub offset: Option<usize>,
    /// Chunks to return at most.
    pub limit: Option<usize>,
}

/// `repo_map` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct RepoMapArgs {
    /// The budget of the map, in tokens (about 4 characters each; default 1024).
    pub tokens: Option<usize>,
    /// Files the conversation is about: the map ranks what they use, and
    /// leaves them out.
    #[serde(default)]
    pub focus: Vec<String>,
    /// Identifiers the conversation mentions.
    #[serde(default)]
    pub mention: Vec<String>,
}

#[tool_router(router = tool_router)]
impl CstServer {
    /// A server over `ws`, with a symbol index of its own.
    pub fn new(ws: Workspace, options: McpOptions) -> CstServer {
        Self::with_symbols(ws, options, Arc::default())
    }

    /// A server over `ws` answering `symbols`, `definition`, `references`
    /// and `repo_map` from `symbols`, an index shared with the rest of the
    /// process (`cst serve` gives its HTTP API the same one), so the
    /// workspace is indexed once.
    pub fn with_symbols(
        ws: Workspace,
        options: McpOptions,
        symbols: Arc<cst_symbols::LiveIndex>,
    ) -> CstServer {
        CstServer {
            inner: Arc::new(Inner {
                ws,
                options,
                symbols,
            }),
            tool_router: Self::tool_router(),
        }
    }

    /// The definitions of one file, nested (classes with their methods).
    #[tool(
        name = "outline",
        description = "The outline of a file: its definitions (functions, classes, methods…), nested, with line ranges. Cheaper than reading the file."
    )]
    async fn outline(&self, Parameters(args): Parameters<OutlineArgs>) -> CallToolResult {
        self.run(move |s| {
            let ws = &s.ws;
            let file = ws.file(&args.path).map_err(|e| e.to_string())?;
            let outline = ws.outline(&file).map_err(|e| e.to_string())?;
            Ok((render::outline(&outline), json!({ "outline": outline })))
        })
        .await
    }

    /// Definitions by name over the whole workspace, or one file's.
    #[tool(
        name = "symbols",
        description = "Find definitions by name across the workspace (exact, prefix, substring, then fuzzy matches, best first), or list the definitions of one file (`path`). Paginated."
    )]
    async fn symbols(&self, Parameters(args): Parameters<SymbolsArgs>) -> CallToolResult {
        self.run(move |s| {
            let page = s.page(args.offset, args.limit);
            match (&args.name, &args.path) {
                (Some(name), _) => {
                    let hits = s.symbols.with(&s.ws, |index, _| {
                        index
                            .search(name, page.end())
                            .into_iter()
                            .map(|h| render::symbol_json(&s.ws, &h.symbol))
                            .collect::<Vec<Value>>()
                    });
                    let hits = hits.map_err(|e| e.to_string())?;
                    Ok(render::list("symbols", hits, page, render::symbol_line))
                }
                (None, Some(path)) => {
                    let file = s.ws.file(path).map_err(|e| e.to_string())?;
                    let outline = s.ws.outline(&file).map_err(|e| e.to_string())?;
                    let flat = render::flatten_outline(&outline);
                    Ok(render::list("symbols", flat, page, render::symbol_line))
                }
                (None, None) => Err("give `name` or `path`".to_string()),
            }
        })
        .await
    }

    /// Where a name is defined (syntactic: by name, not by type).
    #[tool(
        name = "definition",
        description = "Where an identifier is defined, by name over the workspace's tags (syntactic, not type-aware: every definition of that name, ranked: the asking file, its directory, then the rest). Paginated."
    )]
    async fn definition(&self, Parameters(args): Parameters<NameArgs>) -> CallToolResult {
        self.run(move |s| s.by_name(&args, true)).await
    }

    /// Where a name is used (syntactic).
    #[tool(
        name = "references",
        description = "Where an identifier is referenced, by name over the workspace's tags (syntactic, not type-aware), ranked like `definition`. Paginated."
    )]
    async fn references(&self, Parameters(args): Parameters<NameArgs>) -> CallToolResult {
        self.run(move |s| s.by_name(&args, false)).await
    }

    /// A tree-sitter query over files of the workspace.
    #[tool(
        name = "query",
        description = "Run a tree-sitter query (a pattern, or a query the language ships such as `tags`) over files of the workspace; returns the captures with their lines and text. Paginated by match."
    )]
    async fn query(&self, Parameters(args): Parameters<QueryArgs>) -> CallToolResult {
        self.run(move |s| {
            let page = s.page(args.offset, args.limit);
            let req = QueryRequest {
                pattern: args.pattern,
                query: args.query,
                paths: args.paths,
                globs: args.globs,
                language: args.language,
                capture: args.capture,
                // One more than the page: whether more remain.
                max_matches: Some(page.end().saturating_add(1)),
                max_wall_ms: None,
                text: true,
            };
            let prepared =
                s.ws.prepare_query(&req, &cst_workspace::QueryLimits::default())
                    .map_err(|e| e.to_string())?;
            let mut matches = Vec::new();
            let mut errors = Vec::new();
            let summary = s.ws.run_query(&prepared, &mut |r| {
                match r {
                    QueryRecord::Match(m) => matches.push(m),
                    QueryRecord::Error { path, message } => errors.push(json!({
                        "path": path, "message": message
                    })),
                    QueryRecord::Summary(_) => {}
                }
                true
            });
            let values: Vec<Value> = matches
                .iter()
                .map(|m| serde_json::to_value(m).unwrap_or(Value::Null))
                .collect();
            let (text, mut value) = render::list("matches", values, page, render::match_line);
            value["errors"] = Value::from(errors);
            value["summary"] = serde_json::to_value(&summary).unwrap_or(Value::Null);
            Ok((text, value))
        })
        .await
    }

    /// A file cut into AST-aware chunks.
    #[tool(
        name = "chunks",
        description = "A file cut into AST-aware chunks (whole definitions where they fit the budget), each with its lines, its symbol path and its text; optionally only the chunks inside one definition. Paginated."
    )]
    async fn chunks(&self, Parameters(args): Parameters<ChunksArgs>) -> CallToolResult {
        self.run(move |s| {
            let page = s.page(args.offset, args.limit);
            let file = s.ws.file(&args.path).map_err(|e| e.to_string())?;
            let options = cst_workspace::cst::tags::ChunkOptions {
                max: args.max_chars.unwrap_or(1500).clamp(64, 1 << 20),
                ..Default::default()
            };
            let chunks = s.ws.chunks(&file, &options).map_err(|e| e.to_string())?;
            let values: Vec<Value> = chunks
                .iter()
                .filter(|c| {
                    args.symbol
                        .as_ref()
                        .is_none_or(|name| c.symbol_path.iter().any(|p| &p.name == name))
                })
                .map(|c| serde_json::to_value(c).unwrap_or(Value::Null))
                .collect();
            Ok(render::list("chunks", values, page, render::chunk_text))
        })
        .await
    }

    /// The ranked repo map.
    #[tool(
        name = "repo_map",
        description = "A map of the repository within a token budget: the most important files and their definitions, ranked as aider's repo map ranks them (PageRank over the definition/reference graph, personalised by the files and identifiers in focus)."
    )]
    async fn repo_map(&self, Parameters(args): Parameters<RepoMapArgs>) -> CallToolResult {
        self.run(move |s| {
            let mut focus = Vec::new();
            for f in &args.focus {
                focus.push(s.ws.resolve(f).map_err(|e| e.to_string())?);
            }
            let options = cst_symbols::MapOptions {
                tokens: args.tokens.unwrap_or(1024).clamp(64, 1 << 20),
                focus,
                mention: args.mention,
            };
            let map = s
                .symbols
                .with(&s.ws, |index, ranker| ranker.map(index, &s.ws, &options))
                .and_then(|map| map)
                .map_err(|e| e.to_string())?;
            let value = serde_json::to_value(&map).map_err(|e| e.to_string())?;
            Ok((map.text.clone(), value))
        })
        .await
    }

    /// What the workspace holds and does.
    #[tool(
        name = "status",
        description = "The workspace's state: root, generation, stale paths, whether the first index finished, the last reconcile, the watcher (native or polling)."
    )]
    async fn status(&self) -> CallToolResult {
        self.run(|s| {
            let status = s.ws.status();
            let value = serde_json::to_value(&status).map_err(|e| e.to_string())?;
            Ok((render::status(&value), value))
        })
        .await
    }
}

impl CstServer {
    /// Runs `f` on the blocking pool; adds the generation and stale paths.
    async fn run(&self, f: impl FnOnce(&Inner) -> Outcome + Send + 'static) -> CallToolResult {
        let inner = self.inner.clone();
        let outcome = tokio::task::spawn_blocking(move || {
            let out = f(&inner);
            (out, inner.ws.meta())
        })
        .await;
        match outcome {
            Ok((Ok((text, mut value)), meta)) => {
                if let Value::Object(map) = &mut value {
                    map.insert("generation".into(), meta.generation.into());
                    map.insert("stale".into(), meta.stale.clone().into());
                    map.insert("stale_count".into(), meta.stale_count.into());
                }
                let text = if meta.stale_count > 0 {
                    format!(
                        "{text}\n(generation {}; {} stale paths being reconciled)",
                        meta.generation, meta.stale_count
                    )
                } else {
                    format!("{text}\n(generation {})", meta.generation)
                };
                let mut r = CallToolResult::structured(value);
                r.content = vec![ContentBlock::text(text)];
                r
            }
            Ok((Err(message), meta)) => {
                let mut r = CallToolResult::structured_error(json!({
                    "error": message,
                    "generation": meta.generation,
                }));
                r.content = vec![ContentBlock::text(message)];
                r
            }
            Err(e) => {
                let message = format!("the tool's task failed: {e}");
                let mut r = CallToolResult::structured_error(json!({ "error": message }));
                r.content = vec![ContentBlock::text(message)];
                r
            }
        }
    }
}

impl Inner {
    fn page(&self, offset: Option<usize>, limit: Option<usize>) -> Page {
        Page {
            offset: offset.unwrap_or(0),
            limit: limit
                .unwrap_or(self.options.page_size)
                .clamp(1, self.options.max_page_size),
        }
    }

    fn by_name(&self, args: &NameArgs, definitions: bool) -> Outcome {
        let page = self.page(args.offset, args.limit);
        let from = match &args.from {
            Some(f) => Some(self.ws.resolve(f).map_err(|e| e.to_string())?),
            None => None,
        };
        let found = self.symbols.with(&self.ws, |index, _| {
            let list = if definitions {
                index.definitions(&args.name, from.as_deref())
            } else {
                index.references(&args.name, from.as_deref())
            };
            list.into_iter()
                .map(|s| render::symbol_json(&self.ws, s))
                .collect::<Vec<Value>>()
        });
        let found = found.map_err(|e| e.to_string())?;
        let key = if definitions {
            "definitions"
        } else {
            "references"
        };
        Ok(render::list(key, found, page, render::symbol_line))
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for CstServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("cst", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Code navigation over a workspace whose syntax trees cst keeps current (a file \
                 watcher; no update tool needed). Start with `repo_map` or `symbols`; use \
                 `outline` before reading a file; `definition`/`references` are by name \
                 (syntactic).",
            )
    }
}
