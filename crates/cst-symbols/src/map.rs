//! The repo map: aider's ranking of definitions (see [`crate::rank`]),
//! rendered within a token budget.

use std::path::{Path, PathBuf};

use cst_workspace::Workspace;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;

use crate::Error;
use crate::index::{SymbolIndex, source_of};
use crate::rank::{Graph, Personal};
use crate::render::{self, Lines, estimate_tokens};

/// A map rendered more than this far over (or under) the budget is tried
/// again with fewer (more) definitions: aider's 15 %.
const BUDGET_SLACK: f64 = 0.15;

/// What a repo map is asked for.
#[derive(Debug, Clone, Default)]
pub struct MapOptions {
    /// The token budget of the text (estimated, see
    /// [`crate::estimate_tokens`]). The map is accepted within 15 % of it,
    /// as aider accepts it.
    pub tokens: usize,
    /// Focus files (aider's chat files): absolute or relative to the root.
    /// Their references weigh ×50, the ranking is personalised towards
    /// them, and they are left out of the map.
    pub focus: Vec<PathBuf>,
    /// Mentioned identifiers: edges for these names weigh ×10, and files
    /// whose path has one as a component, file name or stem are
    /// personalised.
    pub mention: Vec<String>,
}

/// A ranked repo map.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RepoMap {
    /// The files shown, best first.
    pub files: Vec<MapFile>,
    /// The map as text.
    pub text: String,
    /// The text's token estimate.
    pub tokens: usize,
}

/// One file of a [`RepoMap`].
#[derive(Debug, Clone, Serialize)]
pub struct MapFile {
    /// The path relative to the workspace root.
    pub path: String,
    /// The file's PageRank.
    pub rank: f64,
    /// Its definitions shown, best first.
    pub definitions: Vec<MapDef>,
}

/// One definition of a [`MapFile`].
#[derive(Debug, Clone, Serialize)]
pub struct MapDef {
    /// The name.
    pub name: String,
    /// Its line (from 1; the first definition of the name in the file).
    pub line: u32,
    /// The syntax type.
    pub kind: String,
    /// The rank its references carry.
    pub rank: f64,
}

/// The graph of definitions and references and its unpersonalised
/// PageRank, kept for one generation of one [`SymbolIndex`] (rebuilt from
/// the index's per-file data when the index changed). A personalised
/// ranking (focus files, mentions) starts its power iteration from the
/// kept vector when there is one.
#[derive(Debug, Default)]
pub struct Ranker {
    /// The index id and generation the graph is of.
    key: Option<(u64, u64)>,
    graph: Graph,
    base: Option<Vec<f64>>,
}

/// A ranked definition: rank, file id, name id.
type Ranked = (f64, u32, u32);

impl Ranker {
    /// A ranker with nothing kept yet.
    pub fn new() -> Ranker {
        Ranker::default()
    }

    /// The repo map of `index` (of the workspace `ws`, whose sources the
    /// shown lines are read from) as `options` ask.
    pub fn map(
        &mut self,
        index: &SymbolIndex,
        ws: &Workspace,
        options: &MapOptions,
    ) -> Result<RepoMap, Error> {
        let key = (index.id(), index.generation());
        let started = std::time::Instant::now();
        if self.key != Some(key) {
            self.graph = Graph::build(index);
            self.base = None;
            self.key = Some(key);
            tracing::debug!(elapsed = ?started.elapsed(), idents = self.graph.idents.len(), "graph built");
        }
        let g = &self.graph;
        let focus: FxHashSet<u32> = options
            .focus
            .iter()
            .filter_map(|p| index.file_id(p))
            .collect();
        let mention: FxHashSet<&str> = options.mention.iter().map(String::as_str).collect();
        let x = if focus.is_empty() && mention.is_empty() {
            let p = Personal::none(g);
            let base = self.base.get_or_insert_with(|| g.pagerank(&p, None));
            (base.clone(), p)
        } else {
            let mut p = Personal::none(g);
            for (k, &ident) in g.idents.iter().enumerate() {
                if index
                    .names
                    .get(ident as usize)
                    .is_some_and(|n| mention.contains(&**n))
                {
                    p.ident_factor[k] = 10.0;
                }
            }
            for &f in &focus {
                p.file_factor[f as usize] = 50.0;
            }
            let pers: Vec<f64> = index
                .files
                .iter()
                .enumerate()
                .map(|(f, data)| {
                    let mut v = 0.0;
                    if focus.contains(&(f as u32)) {
                        v += 1.0;
                    }
                    if mentioned_file(&data.rel, &mention) {
                        v += 1.0;
                    }
                    v
                })
                .collect();
            if pers.iter().any(|&v| v > 0.0) {
                p.personalization = Some(pers);
            }
            (g.pagerank(&p, self.base.as_deref()), p)
        };
        let (ranks, personal) = x;
        tracing::debug!(elapsed = ?started.elapsed(), "ranked");
        let mut ranked = g.ranked_definitions(&ranks, &personal);
        ranked.retain(|r| !focus.contains(&r.1));
        // Ties by file id (stored files come in path order), then by name
        // (not by name id: ids depend on the order names were first read
        // in). The map shows at most `tokens` definitions (see `fit`):
        // only those are sorted.
        let names = &index.names;
        let order = |a: &Ranked, b: &Ranked| {
            b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then_with(|| {
                let name = |r: &Ranked| names.get(r.2 as usize).map(|n| &**n);
                name(a).cmp(&name(b)).then(a.2.cmp(&b.2))
            })
        };
        let keep = options.tokens.min(ranked.len());
        if keep > 0 && keep < ranked.len() {
            ranked.select_nth_unstable_by(keep - 1, order);
            ranked.truncate(keep);
        }
        ranked.sort_unstable_by(order);
        tracing::debug!(elapsed = ?started.elapsed(), definitions = ranked.len(), "definitions sorted");
        let map = fit(index, ws, &ranked, &ranks, options.tokens);
        tracing::debug!(elapsed = ?started.elapsed(), "rendered");
        Ok(map)
    }
}

/// Whether a file is mentioned: a mentioned identifier is one of its
/// path's components, its file name or its stem, or its whole path.
fn mentioned_file(rel: &str, mention: &FxHashSet<&str>) -> bool {
    if mention.is_empty() {
        return false;
    }
    let path = Path::new(rel);
    if mention.contains(rel) {
        return true;
    }
    if path
        .components()
        .any(|c| mention.contains(&*c.as_os_str().to_string_lossy()))
    {
        return true;
    }
    path.file_stem()
        .is_some_and(|s| mention.contains(&*s.to_string_lossy()))
}

/// The map of the best `n` for the largest `n` whose text fits `tokens`
/// (aider's binary search: a text within 15 % of the budget ends it).
fn fit(
    index: &SymbolIndex,
    ws: &Workspace,
    ranked: &[Ranked],
    ranks: &[f64],
    tokens: usize,
) -> RepoMap {
    let mut sources: FxHashMap<u32, Option<Lines>> = FxHashMap::default();
    let total = ranked.len();
    if total == 0 || tokens == 0 {
        return RepoMap::default();
    }
    let budget = tokens as f64;
    // Each shown definition costs at least a line of a few characters.
    let (mut lower, mut upper) = (0usize, total.min(tokens));
    let mut middle = (tokens / 25).clamp(1, upper);
    let mut best: Option<RepoMap> = None;
    loop {
        let map = layout(index, ws, &ranked[..middle], ranks, &mut sources);
        let t = map.tokens;
        let err = (t as f64 - budget).abs() / budget;
        let best_tokens = best.as_ref().map_or(0, |b| b.tokens);
        if (t <= tokens && t > best_tokens) || err < BUDGET_SLACK {
            best = Some(map);
            if err < BUDGET_SLACK {
                break;
            }
        }
        if t < tokens {
            lower = middle + 1;
        } else if middle == 0 {
            break;
        } else {
            upper = middle - 1;
        }
        if lower > upper {
            break;
        }
        middle = (lower + upper) / 2;
    }
    best.unwrap_or_default()
}

/// The map of `chosen` definitions: files in order of their first
/// definition, each with its definitions' lines and the lines of the
/// definitions enclosing them.
fn layout(
    index: &SymbolIndex,
    ws: &Workspace,
    chosen: &[Ranked],
    ranks: &[f64],
    sources: &mut FxHashMap<u32, Option<Lines>>,
) -> RepoMap {
    let mut order: Vec<u32> = Vec::new();
    let mut by_file: FxHashMap<u32, Vec<(u32, f64)>> = FxHashMap::default();
    for &(rank, f, name) in chosen {
        let list = by_file.entry(f).or_insert_with(|| {
            order.push(f);
            Vec::new()
        });
        list.push((name, rank));
    }
    let mut text = String::new();
    let mut files = Vec::with_capacity(order.len());
    for f in order {
        let Some(data) = index.files.get(f as usize) else {
            continue;
        };
        let names = by_file.remove(&f).unwrap_or_default();
        let mut rows: Vec<u32> = Vec::new();
        let mut definitions = Vec::with_capacity(names.len());
        let defs: Vec<_> = data.tags.iter().filter(|t| t.def).collect();
        // Scopes: definitions, and what the outline nests by too (Rust's
        // `impl` blocks, tagged as `implementation` references).
        let implementation = index.kinds.iter().position(|k| k == "implementation");
        let scopes: Vec<_> = data
            .tags
            .iter()
            .filter(|t| t.def || Some(t.kind as usize) == implementation)
            .collect();
        for &(name, rank) in &names {
            let mine: Vec<_> = defs.iter().filter(|t| t.name == name).collect();
            let Some(first) = mine.first() else {
                continue;
            };
            definitions.push(MapDef {
                name: index
                    .names
                    .get(name as usize)
                    .map_or_else(String::new, |n| n.to_string()),
                line: first.row.saturating_add(1),
                kind: index
                    .kinds
                    .get(first.kind as usize)
                    .cloned()
                    .unwrap_or_default(),
                rank,
            });
            for t in &mine {
                rows.push(t.row);
                // The definitions enclosing it (its scopes).
                for s in &scopes {
                    let encloses = s.node_start <= t.node_start
                        && s.node_end >= t.node_end
                        && (s.node_start, s.node_end) != (t.node_start, t.node_end);
                    if encloses {
                        rows.push(s.row);
                    }
                }
            }
        }
        rows.sort_unstable();
        rows.dedup();
        let lines = sources
            .entry(f)
            .or_insert_with(|| source_of(ws, data).map(Lines::new))
            .as_ref();
        let fallback: Vec<&str> = definitions.iter().map(|d| d.name.as_str()).collect();
        render::file(&mut text, &data.rel, &rows, lines, &fallback);
        files.push(MapFile {
            path: data.rel.clone(),
            rank: ranks.get(f as usize).copied().unwrap_or(0.0),
            definitions,
        });
    }
    let tokens = estimate_tokens(&text);
    RepoMap {
        files,
        text,
        tokens,
    }
}
