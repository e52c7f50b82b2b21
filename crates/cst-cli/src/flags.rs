//! The command line: the global flags and one argument struct per command.
//! Names, defaults and help texts are the interface users and scripts
//! depend on; change them only on purpose.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// cst — compact, lossless tree-sitter trees for a whole workspace.
#[derive(Parser)]
#[command(
    version,
    about,
    after_help = "Exit codes: 0 ok; 1 a check failed (verify found a mismatch, a file's language is unknown, a grammar was refused); \
                  2 usage error; 3 I/O error; 4 corrupt or locked store."
)]
pub(crate) struct Cli {
    /// Cache directory (default: a per-workspace folder under $XDG_CACHE_HOME/cst or ~/.cache/cst).
    #[arg(long, global = true)]
    pub cache_dir: Option<PathBuf>,
    /// Configuration file (default: cst.toml in the workspace, if present).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Print error details.
    #[arg(long, short, global = true)]
    pub verbose: bool,
    /// Commands that write the cache (index, gc, serve, and tags, outline,
    /// chunks and query, which keep what they compute): wait for another
    /// writer to finish instead of failing. `show`, `stats` and `verify`
    /// only read, beside any writer.
    #[arg(long, global = true)]
    pub wait: bool,
    /// Grammars loaded at run time: where `cst grammar add` keeps them
    /// (default: $CST_GRAMMAR_DIR, else $XDG_DATA_HOME/cst/grammars or
    /// ~/.local/share/cst/grammars).
    #[arg(long, global = true)]
    pub grammar_dir: Option<PathBuf>,
    /// Load no grammar at run time: only the compiled-in ones.
    #[arg(long, global = true)]
    pub no_dynamic_grammars: bool,
    #[command(subcommand)]
    pub command: Command,
}

// The help of a command is its variant's doc comment; the argument structs
// carry none (`//` comments only), so that it stays the one shown.
#[derive(Subcommand)]
pub(crate) enum Command {
    /// Index a workspace: parse every file of a known language, keep the trees.
    Index(IndexArgs),
    /// Print the stored tree of a file (indexing it first if needed).
    Show(ShowArgs),
    /// Definitions and references (tree-sitter-tags semantics) from the
    /// stored trees of files or directories.
    Tags(TagsArgs),
    /// A file's definitions, nested (from its tags and the tree).
    Outline(OutlineArgs),
    /// AST-aware chunks for retrieval: exact slices that tile each file,
    /// cut at node boundaries, with symbol paths and stable ids.
    Chunks(ChunksArgs),
    /// Run a tree-sitter query over the stored trees of files or
    /// directories; prints `path:line:col: line` per capture, like ripgrep.
    Query(QueryArgs),
    /// Compare every stored tree with a fresh parse, node by node.
    Verify(VerifyArgs),
    /// Counters of the cache and its tiers.
    Stats(StatsArgs),
    /// List the languages of the registry.
    Languages(LanguagesArgs),
    /// Serve the workspace over HTTP: trees, nodes, outlines, tags, chunks,
    /// queries and open buffers under /v1 (docs/API.md), /healthz, /readyz
    /// and /metrics; kept current by watching the files.
    Serve(ServeArgs),
    /// Remove stored trees no file refers to and compact the store.
    Gc(GcArgs),
    /// Push the workspace's stored trees to the shared remote (`[remote]
    /// url` or CST_REMOTE_URL; credentials from AWS_*): one pack of what
    /// it lacks, a manifest, and the branch's ref signed with the key in
    /// CST_REMOTE_SIGNING_KEY_FILE. Indexes first.
    Push(PushArgs),
    /// Fetch the shared remote's trees into the workspace's cache (every
    /// object checked: the ref's signature with `[remote] public_key` or
    /// CST_REMOTE_PUBLIC_KEY, hashes, sources against their keys, a sample
    /// parsed again), then index: what the remote held is not parsed. A
    /// failing remote is a miss: the index runs locally.
    Pull(PullArgs),
    /// The remote tier's signing keys.
    #[command(subcommand)]
    Remote(RemoteCommand),
    /// A ranked repo map (aider's): files with their most referenced
    /// definitions, by PageRank over the definitions and references of the
    /// stored tags, within a token budget (estimated: characters / 4).
    Map(MapArgs),
    /// Serve the workspace to an agent over MCP on stdin/stdout (tools:
    /// outline, symbols, definition, references, query, chunks, repo_map,
    /// status), kept current by watching the files.
    Mcp(McpArgs),
    /// Serve the workspace to an editor as a language server over
    /// stdin/stdout (LSP): document symbols, folding and selection ranges,
    /// semantic tokens, syntax diagnostics. The workspace is the client's
    /// rootUri (or first workspace folder).
    Lsp(LspArgs),
    /// Grammars loaded at run time: build one from sources (`add`), import
    /// an editor's compiled parsers (`import`), list, check or remove them.
    /// Each is probed in a child process before it is approved.
    #[command(subcommand)]
    Grammar(GrammarCommand),
}

// `cst grammar …`.
#[derive(Subcommand)]
pub(crate) enum GrammarCommand {
    /// Compile a grammar from its sources (a directory holding
    /// src/parser.c, a .crate, an npm .tgz or a .tar.gz sdist), probe it
    /// and approve it; prints the new grammar's id.
    Add(GrammarAddArgs),
    /// Import compiled parsers from editors' directories (nvim, Helix,
    /// Emacs, the tree-sitter CLI's cache), or one library: copied into the
    /// grammar cache, probed, approved; prints each id.
    Import(GrammarImportArgs),
    /// The approved grammars.
    List(GrammarListArgs),
    /// Probe approved grammars again (all without ids) and renew their
    /// approval; a grammar whose library changed needs this.
    Check(GrammarCheckArgs),
    /// Drop the approval of a grammar.
    Remove(GrammarRemoveArgs),
    /// The probe's child process: LIBRARY SYMBOL [SAMPLE…].
    #[command(hide = true)]
    Probe(GrammarProbeArgs),
}

#[derive(Args)]
pub(crate) struct GrammarAddArgs {
    // A grammar source directory, .crate, .tgz or .tar.gz.
    pub path: PathBuf,
    /// Register the grammar under this id (e.g. a second build of a
    /// compiled-in language).
    #[arg(long)]
    pub id: Option<String>,
    /// The file extensions it claims (repeatable; default: the package's
    /// file types, or the catalogue's).
    #[arg(long = "ext")]
    pub extensions: Vec<String>,
    /// Compile a C++ external scanner (scanner.cc) with the C++ compiler.
    #[arg(long)]
    pub allow_cpp: bool,
    /// Print the approvals as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub(crate) struct GrammarImportArgs {
    // One library to import (with --name); without it, the presets' directories.
    pub library: Option<PathBuf>,
    /// The language name of LIBRARY (default: its file name).
    #[arg(long)]
    pub name: Option<String>,
    /// Editors whose parser directories are searched (repeatable: nvim,
    /// helix, emacs, tree-sitter; default: all, unless --dir is given).
    #[arg(long = "preset")]
    pub presets: Vec<String>,
    /// Other directories of compiled parsers (repeatable): `<lang>.so`,
    /// `libtree-sitter-<lang>.so` or `libtree_sitter_<lang>.so`.
    #[arg(long = "dir")]
    pub dirs: Vec<PathBuf>,
    /// List what would be imported, import nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Args)]
pub(crate) struct GrammarListArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub(crate) struct GrammarCheckArgs {
    // The ids to check (default: all).
    pub ids: Vec<String>,
}

#[derive(Args)]
pub(crate) struct GrammarRemoveArgs {
    // The id to remove.
    pub id: String,
}

#[derive(Args)]
pub(crate) struct GrammarProbeArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<std::ffi::OsString>,
}

// `cst mcp`.
#[derive(Args)]
pub(crate) struct McpArgs {
    /// Workspace directory.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Do not watch the files (the index is then as fresh as its start).
    #[arg(long)]
    pub no_watch: bool,
}

// `cst index`.
#[derive(Args)]
pub(crate) struct IndexArgs {
    /// Workspace directory.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
    /// Read and hash every file (by default a file whose status is the
    /// one noted when it was last read is not read again).
    #[arg(long)]
    pub verify_content: bool,
    /// Do not consult the shared remote (`[remote]` in cst.toml,
    /// CST_REMOTE_URL) before parsing, nor push to it after.
    #[arg(long)]
    pub no_remote: bool,
}

// `cst show`.
#[derive(Args)]
pub(crate) struct ShowArgs {
    /// The file.
    pub file: PathBuf,
    /// tree-sitter's S-expression (the default).
    #[arg(long, group = "format")]
    pub sexp: bool,
    /// The tree as JSON (named and anonymous nodes, ranges, fields).
    #[arg(long, group = "format")]
    pub json: bool,
    /// The file's outline (as `cst outline`).
    #[arg(long, group = "format")]
    pub outline: bool,
}

// `cst tags`.
#[derive(Args)]
pub(crate) struct TagsArgs {
    /// Files or directories (default: the current directory).
    pub paths: Vec<PathBuf>,
    /// One JSON object per line.
    #[arg(long, group = "format")]
    pub json: bool,
    /// Write a ctags-format `tags` file an editor can load (definitions;
    /// with --references, references too).
    #[arg(long, group = "format")]
    pub ctags: bool,
    /// Where --ctags writes (`-` for stdout; default `tags`).
    #[arg(long, short, requires = "ctags")]
    pub output: Option<PathBuf>,
    /// Definitions only (text and JSON; --ctags has them by default).
    #[arg(long)]
    pub definitions: bool,
    /// With --ctags: references too.
    #[arg(long, requires = "ctags")]
    pub references: bool,
    /// Index the paths again first (default: answer from the index,
    /// indexing only paths it does not know).
    #[arg(long)]
    pub index: bool,
}

// `cst outline`.
#[derive(Args)]
pub(crate) struct OutlineArgs {
    /// The file.
    pub file: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

// `cst chunks`.
#[derive(Args)]
pub(crate) struct ChunksArgs {
    /// Files or directories (default: the current directory).
    pub paths: Vec<PathBuf>,
    /// Budget per chunk.
    #[arg(long, default_value_t = 1500)]
    pub max: usize,
    /// What the budget counts: nws (non-whitespace characters), bytes or
    /// tokens (cl100k; needs the `tokens` feature).
    #[arg(long, default_value = "nws")]
    pub unit: String,
    /// Lines of preceding context per chunk (JSON `context_bytes`).
    #[arg(long, default_value_t = 0)]
    pub overlap_lines: usize,
    /// One JSON object per chunk and line, with its text.
    #[arg(long)]
    pub json: bool,
    /// Index the paths again first.
    #[arg(long)]
    pub index: bool,
}

// `cst query`.
#[derive(Args)]
pub(crate) struct QueryArgs {
    /// The query (tree-sitter's query language), with at least one capture.
    pub pattern: String,
    /// Files or directories (default: the current directory).
    pub paths: Vec<PathBuf>,
    /// Only files of this language (id, name or alias).
    #[arg(long)]
    pub lang: Option<String>,
    /// Report only this capture (name without `@`).
    #[arg(long)]
    pub capture: Option<String>,
    /// One JSON object per capture and line.
    #[arg(long)]
    pub json: bool,
    /// Index the paths again first.
    #[arg(long)]
    pub index: bool,
}

// `cst verify`.
#[derive(Args)]
pub(crate) struct VerifyArgs {
    /// Workspace directory (selects the default cache).
    #[arg(default_value = ".")]
    pub dir: PathBuf,
}

// `cst stats`.
#[derive(Args)]
pub(crate) struct StatsArgs {
    /// Workspace directory (selects the default cache).
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

// `cst languages`.
#[derive(Args)]
pub(crate) struct LanguagesArgs {
    /// Print JSON instead of a table: every language of the catalogue,
    /// with `grammar` saying where its grammar comes from (`builtin`,
    /// `loaded`, or null).
    #[arg(long)]
    pub json: bool,
    /// Include languages that have no grammar in this binary (the table
    /// lists only those with one).
    #[arg(long)]
    pub all: bool,
}

// `cst lsp`.
#[derive(Args)]
pub(crate) struct LspArgs {
    /// Do not watch the files (the client's didChangeWatchedFiles still
    /// reconciles them).
    #[arg(long)]
    pub no_watch: bool,
    /// Do not index the workspace when it opens (files are indexed when
    /// first asked for).
    #[arg(long)]
    pub no_index: bool,
}

// `cst serve`.
#[derive(Args)]
pub(crate) struct ServeArgs {
    /// Workspace directory.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Address to listen on: ip:port (loopback unless a token is
    /// given) or unix:/path/to/socket.
    #[arg(long, default_value = "127.0.0.1:9464")]
    pub addr: String,
    /// Watch the files and keep the index current (the default).
    #[arg(long, overrides_with = "no_watch")]
    pub watch: bool,
    /// Do not watch: the index is as fresh as the last reconcile.
    #[arg(long)]
    pub no_watch: bool,
    /// A file holding the bearer token requests must carry (required
    /// for an address that is not loopback).
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// Do not consult the shared remote (`[remote]` in cst.toml,
    /// CST_REMOTE_URL) before the first index.
    #[arg(long)]
    pub no_remote: bool,
}

// `cst gc`.
#[derive(Args)]
pub(crate) struct GcArgs {
    /// Workspace directory (selects the default cache).
    #[arg(default_value = ".")]
    pub dir: PathBuf,
}

// `cst push`.
#[derive(Args)]
pub(crate) struct PushArgs {
    /// Workspace directory.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// The branch whose ref moves (default: `[remote] branch`, `main`).
    #[arg(long)]
    pub branch: Option<String>,
    /// Compact now: pack every bundle under DIR anew, and list only these
    /// packs in the new manifest (by default a push compacts once the
    /// manifest lists more than `[remote] compact_over` packs).
    #[arg(long)]
    pub compact: bool,
    /// Print a JSON report.
    #[arg(long)]
    pub json: bool,
}

// `cst pull`.
#[derive(Args)]
pub(crate) struct PullArgs {
    /// Workspace directory.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// The branch whose ref is read (default: `[remote] branch`, `main`).
    #[arg(long)]
    pub branch: Option<String>,
    /// Fetch only; do not index afterwards.
    #[arg(long)]
    pub no_index: bool,
    /// Fetch every bundle the remote lists that the store lacks, not only
    /// what DIR's files need (a remote keeps every version pushed).
    #[arg(long)]
    pub all: bool,
    /// Print a JSON report.
    #[arg(long)]
    pub json: bool,
}

// `cst remote …`.
#[derive(clap::Subcommand)]
pub(crate) enum RemoteCommand {
    /// Write a new signing key pair: DIR/remote.key (private, mode 0600;
    /// for writers, as CST_REMOTE_SIGNING_KEY_FILE) and DIR/remote.pub
    /// (its public key, for readers' `[remote] public_key`).
    Keygen(KeygenArgs),
    /// Delete what no branch's current manifest names (the packs a
    /// compacting push left behind, older manifests, an interrupted
    /// push's packs), once older than the grace period. Needs the
    /// signing key (CST_REMOTE_SIGNING_KEY_FILE) and write access.
    Gc(RemoteGcArgs),
}

// `cst remote gc`.
#[derive(Args)]
pub(crate) struct RemoteGcArgs {
    /// Workspace directory (whose cst.toml names the remote).
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Keep unreferenced objects younger than this many hours: a reader
    /// that read an older ref may still be reading them.
    #[arg(long, default_value_t = 168)]
    pub grace_hours: u64,
    /// Count only; delete nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print a JSON report.
    #[arg(long)]
    pub json: bool,
}

// `cst remote keygen`.
#[derive(Args)]
pub(crate) struct KeygenArgs {
    /// Where the two files are written (created if needed).
    pub dir: PathBuf,
}

// `cst map`.
#[derive(Args)]
pub(crate) struct MapArgs {
    /// Workspace directory.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Token budget of the map (estimated as characters / 4; the map is
    /// accepted within 15 % of it).
    #[arg(long, default_value_t = 1024)]
    pub tokens: usize,
    /// A focus file (repeatable): its references weigh more, the ranking
    /// leans towards it, and it is left out of the map.
    #[arg(long)]
    pub focus: Vec<PathBuf>,
    /// A mentioned identifier (repeatable): its references weigh more,
    /// and files named after it lean the ranking towards them.
    #[arg(long)]
    pub mention: Vec<String>,
    /// Print a JSON object (`files`: path, rank and definitions with name,
    /// line, kind and rank; `text`; `tokens`).
    #[arg(long)]
    pub json: bool,
}
