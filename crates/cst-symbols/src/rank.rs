//! The definition/reference graph of files and its PageRank, as aider's
//! repo map ranks them.
//!
//! Aider's graph has, for each name defined somewhere and referenced
//! somewhere, an edge from every referencing file to every defining file,
//! weighted `mul × sqrt(references of the name in the referencer)`; a name
//! defined but referenced nowhere gives each of its defining files a
//! self-edge of weight 0.1. Materialised, a name defined in `d` files and
//! referenced from `r` files is `d × r` edges (hundreds of millions in the
//! Linux kernel); here the graph is kept factored by name instead — the
//! referencers of a name with their weights, and its definers — and one
//! step of the power iteration gathers each name's share from its
//! referencers and hands it to each definer: the same chain, in time linear
//! in the postings.

use rustc_hash::FxHashMap;

use crate::index::SymbolIndex;

/// PageRank's damping factor (networkx's default, as aider uses it).
pub(crate) const DAMPING: f64 = 0.85;
/// Convergence: the L1 change of a step below `nodes × TOLERANCE`.
const TOLERANCE: f64 = 1e-6;
/// Most power-iteration steps.
const MAX_STEPS: usize = 100;
/// The weight of the self-edge of a definition referenced nowhere.
const SELF_WEIGHT: f64 = 0.1;

/// The factored graph (see the module documentation). Nodes are file ids
/// of the index it was built from.
#[derive(Debug, Default)]
pub(crate) struct Graph {
    /// Files of the index.
    pub files: usize,
    /// Whether a file is a node (has an edge).
    pub node: Vec<bool>,
    /// Names with edges between files: the name id.
    pub idents: Vec<u32>,
    /// Their weight factor independent of the request (long snake, kebab
    /// or camel case names, `_` names, names defined in more than 5 files).
    pub mul: Vec<f64>,
    /// Per ident, a range of `refs`: (referencing file, sqrt(count)).
    ref_start: Vec<u32>,
    refs: Vec<(u32, f64)>,
    /// Per ident, a range of `defs`: the defining files.
    def_start: Vec<u32>,
    defs: Vec<u32>,
    /// Per file: its self-edges' names (defined there, referenced nowhere).
    self_names: FxHashMap<u32, Vec<u32>>,
}

/// What a request changes: the factors of mentioned names and of focus
/// files' edges, and the personalization.
#[derive(Debug, Clone)]
pub(crate) struct Personal {
    /// Per ident of the graph: ×10 when mentioned.
    pub ident_factor: Vec<f64>,
    /// Per file: ×50 for the edges out of a focus file.
    pub file_factor: Vec<f64>,
    /// Per file: the personalization (any scale; normalised over the
    /// nodes). `None`: uniform.
    pub personalization: Option<Vec<f64>>,
}

impl Personal {
    /// No focus, no mention.
    pub(crate) fn none(g: &Graph) -> Personal {
        Personal {
            ident_factor: vec![1.0; g.idents.len()],
            file_factor: vec![1.0; g.files],
            personalization: None,
        }
    }
}

/// Aider's factor for a name, from the name and its number of defining
/// files (mentions and focus files are the request's).
pub(crate) fn static_mul(name: &str, definers: usize) -> f64 {
    let has_alpha = name.chars().any(char::is_alphabetic);
    let snake = name.contains('_') && has_alpha;
    let kebab = name.contains('-') && has_alpha;
    let camel = name.chars().any(char::is_uppercase) && name.chars().any(char::is_lowercase);
    let mut mul = 1.0;
    if (snake || kebab || camel) && name.chars().count() >= 8 {
        mul *= 10.0;
    }
    if name.starts_with('_') {
        mul *= 0.1;
    }
    if definers > 5 {
        mul *= 0.1;
    }
    mul
}

impl Graph {
    /// The graph of the index's tags.
    pub(crate) fn build(index: &SymbolIndex) -> Graph {
        let tags = index
            .files
            .iter()
            .enumerate()
            .flat_map(|(f, data)| data.tags.iter().map(move |t| (f as u32, t.name, t.def)));
        let names: Vec<&str> = index.names.iter().map(|n| &**n).collect();
        Graph::from_tags(index.files.len(), &names, tags)
    }

    /// The graph of `files` files whose tags are `(file, name id, is
    /// definition)`, in file order; `names` by id.
    pub(crate) fn from_tags(
        files: usize,
        names: &[&str],
        tags: impl Iterator<Item = (u32, u32, bool)> + Clone,
    ) -> Graph {
        let n = names.len();
        // Per name: its (file, count) definitions and references, files
        // ascending (the tags come in file order).
        let mut defs_of: Vec<Vec<u32>> = vec![Vec::new(); n];
        let mut refs_of: Vec<Vec<(u32, u32)>> = vec![Vec::new(); n];
        let mut any_ref = false;
        for (f, name, def) in tags.clone() {
            let i = name as usize;
            if i >= n || f as usize >= files {
                continue;
            }
            if def {
                if defs_of[i].last() != Some(&f) {
                    defs_of[i].push(f);
                }
            } else {
                any_ref = true;
                push_count(&mut refs_of[i], f);
            }
        }
        // No references anywhere: aider takes the definitions as
        // references, each defining file once (its `defines` sets).
        if !any_ref {
            for (refs, defs) in refs_of.iter_mut().zip(&defs_of) {
                refs.extend(defs.iter().map(|&f| (f, 1)));
            }
        }
        let mut g = Graph {
            files,
            node: vec![false; files],
            ref_start: vec![0],
            def_start: vec![0],
            ..Graph::default()
        };
        for (i, defs) in defs_of.iter().enumerate() {
            if defs.is_empty() {
                continue;
            }
            let refs = &refs_of[i];
            if refs.is_empty() {
                for &d in defs {
                    g.self_names.entry(d).or_default().push(i as u32);
                    g.node[d as usize] = true;
                }
                continue;
            }
            g.idents.push(i as u32);
            g.mul.push(static_mul(names[i], defs.len()));
            for &(r, count) in refs {
                g.refs.push((r, f64::from(count).sqrt()));
                g.node[r as usize] = true;
            }
            for &d in defs {
                g.defs.push(d);
                g.node[d as usize] = true;
            }
            g.ref_start.push(g.refs.len() as u32);
            g.def_start.push(g.defs.len() as u32);
        }
        g
    }

    fn refs(&self, i: usize) -> &[(u32, f64)] {
        &self.refs[self.ref_start[i] as usize..self.ref_start[i + 1] as usize]
    }

    pub(crate) fn defs(&self, i: usize) -> &[u32] {
        &self.defs[self.def_start[i] as usize..self.def_start[i + 1] as usize]
    }

    /// The total weight out of each file under `p`.
    fn out_weights(&self, p: &Personal) -> Vec<f64> {
        let mut w = vec![0.0; self.files];
        for i in 0..self.idents.len() {
            let d = self.defs(i).len() as f64;
            let m = self.mul[i] * p.ident_factor[i];
            for &(r, c) in self.refs(i) {
                w[r as usize] += d * c * m * p.file_factor[r as usize];
            }
        }
        for (&f, names) in &self.self_names {
            w[f as usize] += SELF_WEIGHT * names.len() as f64;
        }
        w
    }

    /// The personalization over the nodes, summing to 1.
    fn personalization(&self, p: &Personal) -> Vec<f64> {
        let nodes = self.node.iter().filter(|&&n| n).count().max(1) as f64;
        let uniform = || -> Vec<f64> {
            self.node
                .iter()
                .map(|&n| if n { 1.0 / nodes } else { 0.0 })
                .collect()
        };
        let Some(given) = &p.personalization else {
            return uniform();
        };
        let total: f64 = given
            .iter()
            .zip(&self.node)
            .filter(|(_, n)| **n)
            .map(|(v, _)| v.max(0.0))
            .sum();
        if total <= 0.0 {
            return uniform();
        }
        given
            .iter()
            .zip(&self.node)
            .map(|(v, &n)| if n { v.max(0.0) / total } else { 0.0 })
            .collect()
    }

    /// PageRank (networkx's power iteration, as aider calls it: damping
    /// 0.85, dangling nodes' rank spread by the personalization), starting
    /// from `start` (normalised over the nodes) or uniform. Returns the
    /// rank per file (0 for files that are not nodes).
    pub(crate) fn pagerank(&self, p: &Personal, start: Option<&[f64]>) -> Vec<f64> {
        let nodes = self.node.iter().filter(|&&n| n).count();
        if nodes == 0 {
            return vec![0.0; self.files];
        }
        let pers = self.personalization(p);
        let w = self.out_weights(p);
        let mut x: Vec<f64> = match start {
            Some(s) if s.len() == self.files => {
                let total: f64 = s
                    .iter()
                    .zip(&self.node)
                    .filter(|(_, n)| **n)
                    .map(|(v, _)| *v)
                    .sum();
                if total > 0.0 {
                    s.iter()
                        .zip(&self.node)
                        .map(|(v, &n)| if n { v / total } else { 0.0 })
                        .collect()
                } else {
                    self.uniform(nodes)
                }
            }
            _ => self.uniform(nodes),
        };
        let mut next = vec![0.0; self.files];
        for _ in 0..MAX_STEPS {
            next.iter_mut().for_each(|v| *v = 0.0);
            let dangling: f64 = (0..self.files)
                .filter(|&f| self.node[f] && w[f] == 0.0)
                .map(|f| x[f])
                .sum();
            for i in 0..self.idents.len() {
                let share = self.share(i, &x, &w, p);
                if share != 0.0 {
                    for &d in self.defs(i) {
                        next[d as usize] += DAMPING * share;
                    }
                }
            }
            for (&f, names) in &self.self_names {
                let f = f as usize;
                if w[f] > 0.0 {
                    next[f] += DAMPING * x[f] * SELF_WEIGHT * names.len() as f64 / w[f];
                }
            }
            let mut err = 0.0;
            for f in 0..self.files {
                if self.node[f] {
                    next[f] += DAMPING * dangling * pers[f] + (1.0 - DAMPING) * pers[f];
                    err += (next[f] - x[f]).abs();
                }
            }
            std::mem::swap(&mut x, &mut next);
            if err < nodes as f64 * TOLERANCE {
                break;
            }
        }
        x
    }

    fn uniform(&self, nodes: usize) -> Vec<f64> {
        self.node
            .iter()
            .map(|&n| if n { 1.0 / nodes as f64 } else { 0.0 })
            .collect()
    }

    /// What ident `i`'s edges carry into each of its definers under ranks
    /// `x`: the sum over its referencers of their rank times the edge's
    /// share of their out-weight.
    fn share(&self, i: usize, x: &[f64], w: &[f64], p: &Personal) -> f64 {
        let m = self.mul[i] * p.ident_factor[i];
        self.refs(i)
            .iter()
            .map(|&(r, c)| {
                let r = r as usize;
                if w[r] > 0.0 {
                    x[r] * c * m * p.file_factor[r] / w[r]
                } else {
                    0.0
                }
            })
            .sum()
    }

    /// Each (defining file, name id) with the rank its incoming edges
    /// carry under ranks `x` (aider's `ranked_definitions`).
    pub(crate) fn ranked_definitions(&self, x: &[f64], p: &Personal) -> Vec<(f64, u32, u32)> {
        let w = self.out_weights(p);
        let mut out = Vec::new();
        for i in 0..self.idents.len() {
            let share = self.share(i, x, &w, p);
            for &d in self.defs(i) {
                out.push((share, d, self.idents[i]));
            }
        }
        for (&f, names) in &self.self_names {
            let fu = f as usize;
            let rank = if w[fu] > 0.0 {
                x[fu] * SELF_WEIGHT / w[fu]
            } else {
                0.0
            };
            for &name in names {
                out.push((rank, f, name));
            }
        }
        out
    }
}

/// Counts one more reference of a name in file `f` (the list is in file
/// order).
fn push_count(list: &mut Vec<(u32, u32)>, f: u32) {
    match list.last_mut() {
        Some((last, c)) if *last == f => *c += 1,
        _ => list.push((f, 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_any_reference_each_defining_file_counts_once() {
        // aider: `references = defines` (a set of files per name). File 0
        // defines `a` three times, file 1 once: one reference each.
        let names = ["a", "b"];
        let tags = vec![
            (0, 0, true),
            (0, 0, true),
            (0, 0, true),
            (1, 0, true),
            (1, 1, true),
        ];
        let g = Graph::from_tags(2, &names, tags.into_iter());
        assert_eq!(g.idents, vec![0, 1]);
        assert_eq!(g.refs(0), &[(0, 1.0), (1, 1.0)]);
        assert_eq!(g.defs(0), &[0, 1]);
        assert_eq!(g.refs(1), &[(1, 1.0)]);
    }

    /// Tags as (file, name id, is definition).
    type Tags = Vec<(u32, u32, bool)>;

    /// A small workspace: its files, names and tags.
    fn sample() -> (usize, Vec<&'static str>, Tags) {
        // Names: 0 parse_config (long snake), 1 run, 2 _hidden, 3 helper,
        // 4 unused_thing (referenced nowhere), 5 Widget.
        let names = vec![
            "parse_config",
            "run",
            "_hidden",
            "helper",
            "unused_thing",
            "Widget",
        ];
        let tags = vec![
            (0, 0, true),
            (0, 3, false),
            (0, 4, true),
            (1, 1, true),
            (1, 0, false),
            (1, 0, false),
            (1, 0, false),
            (1, 5, false),
            (2, 3, true),
            (2, 2, true),
            (2, 1, false),
            (3, 2, false),
            (3, 0, false),
            (3, 5, true),
            (4, 1, false),
            (4, 3, false),
            (4, 3, false),
            // File 5: defines only, referenced by nobody: dangling.
            (5, 5, true),
            (5, 1, true),
        ];
        (6, names, tags)
    }

    /// Aider's graph as a dense weight matrix (parallel edges summed), built
    /// edge by edge as aider does.
    fn dense(
        files: usize,
        names: &[&str],
        tags: &[(u32, u32, bool)],
        mentioned: &[u32],
        focus: &[u32],
    ) -> Vec<Vec<f64>> {
        let mut m = vec![vec![0.0; files]; files];
        for (i, name) in names.iter().enumerate() {
            let i = i as u32;
            let mut definers: Vec<u32> = tags
                .iter()
                .filter(|t| t.1 == i && t.2)
                .map(|t| t.0)
                .collect();
            definers.sort();
            definers.dedup();
            let mut counts: FxHashMap<u32, u32> = FxHashMap::default();
            for t in tags.iter().filter(|t| t.1 == i && !t.2) {
                *counts.entry(t.0).or_default() += 1;
            }
            if definers.is_empty() {
                continue;
            }
            if counts.is_empty() {
                for &d in &definers {
                    m[d as usize][d as usize] += 0.1;
                }
                continue;
            }
            let mut mul = static_mul(name, definers.len());
            if mentioned.contains(&i) {
                mul *= 10.0;
            }
            for (&r, &c) in &counts {
                for &d in &definers {
                    let mut w = mul * f64::from(c).sqrt();
                    if focus.contains(&r) {
                        w *= 50.0;
                    }
                    m[r as usize][d as usize] += w;
                }
            }
        }
        m
    }

    /// networkx's pagerank on a dense matrix, computed independently.
    fn dense_pagerank(m: &[Vec<f64>], pers: &[f64]) -> Vec<f64> {
        let n = m.len();
        let nodes: Vec<usize> = (0..n)
            .filter(|&i| m[i].iter().any(|&w| w > 0.0) || (0..n).any(|j| m[j][i] > 0.0))
            .collect();
        let k = nodes.len();
        let total: f64 = nodes.iter().map(|&i| pers[i]).sum();
        let p: Vec<f64> = (0..n)
            .map(|i| {
                if nodes.contains(&i) {
                    pers[i] / total
                } else {
                    0.0
                }
            })
            .collect();
        let mut x: Vec<f64> = (0..n)
            .map(|i| {
                if nodes.contains(&i) {
                    1.0 / k as f64
                } else {
                    0.0
                }
            })
            .collect();
        for _ in 0..1000 {
            let mut y = vec![0.0; n];
            let mut dangling = 0.0;
            for &i in &nodes {
                let out: f64 = m[i].iter().sum();
                if out == 0.0 {
                    dangling += x[i];
                    continue;
                }
                for j in 0..n {
                    y[j] += 0.85 * x[i] * m[i][j] / out;
                }
            }
            for &i in &nodes {
                y[i] += 0.85 * dangling * p[i] + 0.15 * p[i];
            }
            x = y;
        }
        x
    }

    fn check(mentioned: &[u32], focus: &[u32], pers: Option<Vec<f64>>) {
        let (files, names, tags) = sample();
        let g = Graph::from_tags(files, &names, tags.iter().copied());
        let mut p = Personal::none(&g);
        for (k, &ident) in g.idents.iter().enumerate() {
            if mentioned.contains(&ident) {
                p.ident_factor[k] = 10.0;
            }
        }
        for &f in focus {
            p.file_factor[f as usize] = 50.0;
        }
        p.personalization = pers.clone();
        let got = g.pagerank(&p, None);
        let m = dense(files, &names, &tags, mentioned, focus);
        let want = dense_pagerank(&m, &pers.unwrap_or_else(|| vec![1.0; files]));
        for f in 0..files {
            assert!(
                (got[f] - want[f]).abs() < 1e-5,
                "file {f}: {} vs {} (all {got:?} / {want:?})",
                got[f],
                want[f]
            );
        }
        let total: f64 = got.iter().sum();
        assert!((total - 1.0).abs() < 1e-6, "{total}");
        // A warm start from the result converges to the same vector.
        let again = g.pagerank(&p, Some(&got));
        for f in 0..files {
            assert!((again[f] - got[f]).abs() < 1e-5);
        }
    }

    #[test]
    fn pagerank_matches_a_dense_power_iteration() {
        check(&[], &[], None);
    }

    #[test]
    fn pagerank_with_mentions_focus_and_personalization() {
        check(&[3], &[4], Some(vec![0.0, 0.0, 0.0, 0.0, 1.0, 0.0]));
        check(&[1, 5], &[], Some(vec![1.0, 0.0, 2.0, 0.0, 0.0, 0.0]));
    }

    #[test]
    fn ranked_definitions_split_each_rank_over_out_edges() {
        let (files, names, tags) = sample();
        let g = Graph::from_tags(files, &names, tags.iter().copied());
        let p = Personal::none(&g);
        let x = g.pagerank(&p, None);
        let ranked = g.ranked_definitions(&x, &p);
        // Every node with out-edges hands all its rank to them: the ranked
        // definitions sum to the rank of the non-dangling nodes.
        let m = dense(files, &names, &tags, &[], &[]);
        let carried: f64 = (0..files)
            .filter(|&f| m[f].iter().sum::<f64>() > 0.0)
            .map(|f| x[f])
            .sum();
        let total: f64 = ranked.iter().map(|r| r.0).sum();
        assert!((total - carried).abs() < 1e-9, "{total} vs {carried}");
        // The dense matrix's edge ranks, summed per (definer, name): file
        // 0's parse_config gets the shares of files 1 and 3.
        let share = |r: usize, d: usize, name: u32| -> f64 {
            let out: f64 = m[r].iter().sum();
            let mut w = static_mul(names[name as usize], 1);
            let c = tags
                .iter()
                .filter(|t| t.0 as usize == r && t.1 == name && !t.2)
                .count();
            w *= (c as f64).sqrt();
            let _ = d;
            x[r] * w / out
        };
        let want = share(1, 0, 0) + share(3, 0, 0);
        let got = ranked
            .iter()
            .find(|r| r.1 == 0 && r.2 == 0)
            .map(|r| r.0)
            .unwrap_or(-1.0);
        assert!((got - want).abs() < 1e-12, "{got} vs {want}");
    }
}
