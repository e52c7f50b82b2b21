//! Inputs generated from a tree-sitter `grammar.json`: a reproducible
//! stand-in for a test corpus when a grammar package ships none.
//!
//! Every generated grammar package ships `src/grammar.json`, the grammar's
//! rules in tree-sitter's own JSON format. [`generate_with_stats`] makes random
//! derivations from the start rule (the first rule of `rules`) and renders
//! them as text:
//!
//! * `STRING` gives its literal, `PATTERN` a short random string matching the
//!   regular expression (classes prefer printable ASCII, repetitions are drawn
//!   from a few counts past their minimum), `SYMBOL` expands the rule;
//! * `FIELD`, `ALIAS`, `PREC*` and `RESERVED` are transparent;
//! * between tokens goes one space (or, rarely, a newline) when the grammar's
//!   `extras` skip whitespace; none inside a `TOKEN`, none before an
//!   `IMMEDIATE_TOKEN`;
//! * past the depth budget, or once half the byte budget is used, every
//!   choice takes its cheapest alternative (a precomputed minimal expansion
//!   size), `REPEAT` expands nothing and `REPEAT1` once;
//! * external symbols (produced by the grammar's C scanner) have no rule:
//!   choices avoid them when an alternative exists. A few are emitted by
//!   name: `newline`-like externals as a line feed, `indent` / `dedent`
//!   pairs by indenting the following lines, `start`, `eof` and
//!   `end_of_file` markers as nothing. An input that needs any other
//!   external is dropped and counted in [`Generated::skipped`];
//! * a word (the grammar's `word` rule) or a stand-alone pattern never
//!   renders as one of the grammar's literals (keywords): it is drawn again.
//!
//! Output is deterministic for a seed, each input at most `max_bytes` long.

use std::collections::HashSet;

use anyhow::{Context, Result, bail};
use regex_syntax::hir::{Class, Hir, HirKind};
use serde::Deserialize;
use serde::de::{MapAccess, Visitor};
use serde_json::Value;

/// Options of the generator.
#[derive(Debug, Clone)]
pub struct GenOptions {
    /// Seed of the random derivations: the same seed gives the same inputs.
    pub seed: u64,
    /// How many distinct inputs to generate (fewer come back when attempts
    /// fail or repeat: at most `3 * count + 8` attempts are made).
    pub count: usize,
    /// Nesting of rule expansions past which every choice is the cheapest.
    pub max_depth: usize,
    /// Largest input, in bytes; derivations wind down at half of it.
    pub max_bytes: usize,
}

impl Default for GenOptions {
    fn default() -> GenOptions {
        GenOptions {
            seed: 0,
            count: 100,
            max_depth: 10,
            max_bytes: 4096,
        }
    }
}

/// Distinct inputs generated from a grammar, with the counts of dropped
/// attempts.
#[derive(Debug, Clone, Default)]
pub struct Generated {
    /// Each a byte string the grammar should accept.
    pub inputs: Vec<Vec<u8>>,
    /// Attempts dropped: they needed an external token the generator cannot
    /// render, an unparsable pattern or an undefined symbol, or outgrew the
    /// byte budget.
    pub skipped: usize,
    /// Attempts dropped because they repeated an earlier input.
    pub duplicates: usize,
}

/// Inputs generated from a grammar.json (each a byte string the grammar
/// should accept), with the count of attempts dropped.
pub fn generate_with_stats(grammar_json: &str, options: &GenOptions) -> Result<Generated> {
    let grammar = Grammar::parse(grammar_json)?;
    let mut generated = Generated::default();
    let mut seen = HashSet::new();
    // Attempts that fail are retried, within bounds: a grammar that needs an
    // unrenderable external everywhere yields nothing rather than spinning.
    let attempts = options.count.saturating_mul(3).saturating_add(8);
    for attempt in 0..attempts {
        if generated.inputs.len() >= options.count {
            break;
        }
        let seed = options.seed ^ (attempt as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        match Derivation::run(&grammar, options, seed) {
            Some(input) if seen.insert(input.clone()) => generated.inputs.push(input),
            Some(_) => generated.duplicates += 1,
            None => generated.skipped += 1,
        }
    }
    Ok(generated)
}

// ---------------------------------------------------------------------------
// The grammar, compiled to an arena of nodes.

/// Cost of a derivation that cannot be completed.
const INFINITE: u64 = u64::MAX / 4;
/// Extra cost of an external the generator cannot render.
const EXTERNAL: u64 = 1 << 32;
/// Recursion guard, independent of the depth budget.
const MAX_LEVEL: usize = 1500;
/// Tries to draw a word or pattern that is not a keyword.
const KEYWORD_TRIES: usize = 8;

/// One node of a rule.
enum Node {
    Blank,
    Literal(Vec<u8>),
    /// A regular expression, `None` when regex-syntax cannot parse it.
    Pattern(Option<Hir>),
    /// A rule, by index.
    Rule(usize),
    /// An external without a rule, by index into `Grammar::externals`.
    External(usize),
    /// A symbol neither a rule nor an external.
    Undefined,
    Seq(Vec<usize>),
    Choice(Vec<usize>),
    Repeat(usize),
    Repeat1(usize),
    /// `TOKEN` (false) or `IMMEDIATE_TOKEN` (true).
    Token(usize, bool),
}

/// How an external symbol is rendered.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ExternalText {
    /// A zero-width marker at the start or end of the input.
    Nothing,
    Newline,
    Indent,
    Dedent,
    Unknown,
}

struct Grammar {
    nodes: Vec<Node>,
    /// Minimal expansion cost of each node (bytes plus expansions).
    cost: Vec<u64>,
    /// Root node of each rule, in `rules` order.
    roots: Vec<usize>,
    externals: Vec<ExternalText>,
    word: Option<usize>,
    /// Every literal of the grammar: words and patterns must not render as one.
    keywords: HashSet<Vec<u8>>,
    /// Whether `extras` skip spaces, so tokens can be separated by one.
    spaced: bool,
    /// Whether a newline may stand for a space between tokens.
    newlines: bool,
}

/// The `rules` object, in its order (the first rule is the start rule).
struct OrderedRules(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for OrderedRules {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Ordered;
        impl<'de> Visitor<'de> for Ordered {
            type Value = OrderedRules;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of rules")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedRules, A::Error> {
                let mut rules = Vec::new();
                while let Some(entry) = map.next_entry::<String, Value>()? {
                    rules.push(entry);
                }
                Ok(OrderedRules(rules))
            }
        }
        deserializer.deserialize_map(Ordered)
    }
}

#[derive(Deserialize)]
struct GrammarFile {
    rules: OrderedRules,
    #[serde(default)]
    extras: Option<Vec<Value>>,
    #[serde(default)]
    externals: Vec<Value>,
    #[serde(default)]
    word: Option<String>,
    #[serde(default)]
    reserved: Option<Value>,
}

struct Builder<'a> {
    names: &'a [(String, Value)],
    external_names: Vec<String>,
    nodes: Vec<Node>,
    keywords: HashSet<Vec<u8>>,
}

impl Builder<'_> {
    fn rule_index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|(n, _)| n == name)
    }

    fn symbol(&self, name: &str) -> Node {
        if let Some(i) = self.rule_index(name) {
            Node::Rule(i)
        } else if let Some(i) = self.external_names.iter().position(|n| n == name) {
            Node::External(i)
        } else {
            Node::Undefined
        }
    }

    /// Compiles a rule's JSON bottom-up (children get smaller indices).
    fn build(&mut self, value: &Value, level: usize) -> Result<usize> {
        if level > 400 {
            bail!("rule nested too deeply");
        }
        let kind = value
            .get("type")
            .and_then(Value::as_str)
            .context("rule without a type")?;
        let content = || value.get("content").context("rule without content");
        let node = match kind {
            "BLANK" => Node::Blank,
            "STRING" => {
                let s = value
                    .get("value")
                    .and_then(Value::as_str)
                    .context("STRING without value")?;
                self.keywords.insert(s.as_bytes().to_vec());
                Node::Literal(s.as_bytes().to_vec())
            }
            "PATTERN" => {
                let s = value
                    .get("value")
                    .and_then(Value::as_str)
                    .context("PATTERN without value")?;
                let flags = value.get("flags").and_then(Value::as_str).unwrap_or("");
                Node::Pattern(parse_pattern(s, flags))
            }
            "SYMBOL" => {
                let s = value
                    .get("name")
                    .and_then(Value::as_str)
                    .context("SYMBOL without name")?;
                self.symbol(s)
            }
            "SEQ" | "CHOICE" => {
                let members = value
                    .get("members")
                    .and_then(Value::as_array)
                    .with_context(|| format!("{kind} without members"))?;
                let mut children = Vec::with_capacity(members.len());
                for m in members {
                    children.push(self.build(m, level + 1)?);
                }
                if kind == "SEQ" {
                    Node::Seq(children)
                } else {
                    Node::Choice(children)
                }
            }
            "REPEAT" => Node::Repeat(self.build(content()?, level + 1)?),
            "REPEAT1" => Node::Repeat1(self.build(content()?, level + 1)?),
            "TOKEN" => Node::Token(self.build(content()?, level + 1)?, false),
            "IMMEDIATE_TOKEN" => Node::Token(self.build(content()?, level + 1)?, true),
            "FIELD" | "ALIAS" | "PREC" | "PREC_LEFT" | "PREC_RIGHT" | "PREC_DYNAMIC"
            | "RESERVED" => {
                return self.build(content()?, level + 1);
            }
            other => bail!("unknown rule type {other:?}"),
        };
        self.nodes.push(node);
        Ok(self.nodes.len() - 1)
    }
}

impl Grammar {
    fn parse(json: &str) -> Result<Grammar> {
        let file: GrammarFile = serde_json::from_str(json).context("reading grammar.json")?;
        let rules = &file.rules.0;
        if rules.is_empty() {
            bail!("grammar.json has no rules");
        }
        let external_names: Vec<String> = file
            .externals
            .iter()
            .filter(|e| e.get("type").and_then(Value::as_str) == Some("SYMBOL"))
            .filter_map(|e| e.get("name").and_then(Value::as_str).map(str::to_owned))
            .collect();
        let mut builder = Builder {
            names: rules,
            external_names,
            nodes: Vec::new(),
            keywords: HashSet::new(),
        };
        let mut roots = Vec::with_capacity(rules.len());
        for (name, value) in rules {
            roots.push(
                builder
                    .build(value, 0)
                    .with_context(|| format!("rule {name}"))?,
            );
        }
        let extras = match &file.extras {
            Some(extras) => {
                let mut nodes = Vec::with_capacity(extras.len());
                for e in extras {
                    nodes.push(builder.build(e, 0).context("extras")?);
                }
                nodes
            }
            // tree-sitter's default extras: whitespace.
            None => {
                builder.nodes.push(Node::Pattern(parse_pattern(r"\s", "")));
                vec![builder.nodes.len() - 1]
            }
        };
        if let Some(reserved) = &file.reserved {
            collect_strings(reserved, &mut builder.keywords, 0);
        }
        let has = |n: &str| {
            builder
                .external_names
                .iter()
                .any(|e| e.trim_start_matches('_') == n)
        };
        let indents = has("indent") && has("dedent");
        let externals: Vec<ExternalText> = builder
            .external_names
            .iter()
            .map(|name| {
                let bare = name.trim_start_matches('_').to_ascii_lowercase();
                let newline = bare.contains("newline")
                    || bare.contains("line_ending")
                    || bare.contains("line_break");
                if newline && !bare.starts_with("no_") || bare == "eol" {
                    ExternalText::Newline
                } else if ["start", "eof", "end_of_file"].contains(&bare.as_str()) {
                    ExternalText::Nothing
                } else if indents && bare == "indent" {
                    ExternalText::Indent
                } else if indents && bare == "dedent" {
                    ExternalText::Dedent
                } else {
                    ExternalText::Unknown
                }
            })
            .collect();
        let word = file.word.as_deref().and_then(|w| builder.rule_index(w));
        let Builder {
            nodes, keywords, ..
        } = builder;
        let mut grammar = Grammar {
            cost: vec![INFINITE; nodes.len()],
            nodes,
            roots,
            externals,
            word,
            keywords,
            spaced: false,
            newlines: false,
        };
        grammar.compute_costs();
        let mut seen = HashSet::new();
        grammar.spaced = extras.iter().any(|&e| grammar.skips(e, b' ', &mut seen, 0));
        seen.clear();
        let newline_extra = extras
            .iter()
            .any(|&e| grammar.skips(e, b'\n', &mut seen, 0));
        // A newline between tokens only where it cannot mean anything: not
        // when the grammar has a newline token or a newline external.
        let newline_token = grammar.nodes.iter().any(|n| match n {
            Node::Literal(s) => s.contains(&b'\n'),
            Node::Pattern(Some(hir)) => {
                hir_matches_byte(hir, b'\n')
                    && !hir_matches_byte(hir, b' ')
                    && !hir_matches_byte(hir, b'a')
            }
            _ => false,
        }) || !grammar.externals.is_empty();
        grammar.newlines = newline_extra && !newline_token;
        Ok(grammar)
    }

    /// Least fixed point of the minimal expansion costs.
    fn compute_costs(&mut self) {
        let mut rule_cost = vec![INFINITE; self.roots.len()];
        for _ in 0..10_000 {
            let mut changed = false;
            for i in 0..self.nodes.len() {
                let c = match &self.nodes[i] {
                    Node::Blank => 0,
                    // A NUL byte ends the input for many scanners: avoided.
                    Node::Literal(s) if s.contains(&0) => EXTERNAL,
                    Node::Literal(s) => s.len() as u64 + 1,
                    Node::Pattern(Some(hir)) => match hir.properties().minimum_len() {
                        Some(n) => n as u64 + 1,
                        None => INFINITE,
                    },
                    Node::Pattern(None) | Node::Undefined => INFINITE,
                    Node::Rule(r) => rule_cost[*r].saturating_add(1).min(INFINITE),
                    Node::External(e) => match self.externals[*e] {
                        ExternalText::Unknown => EXTERNAL,
                        _ => 1,
                    },
                    Node::Seq(children) => children
                        .iter()
                        .fold(0u64, |sum, &c| sum.saturating_add(self.cost[c]))
                        .min(INFINITE),
                    Node::Choice(children) => {
                        children.iter().map(|&c| self.cost[c]).min().unwrap_or(0)
                    }
                    Node::Repeat(_) => 0,
                    Node::Repeat1(c) | Node::Token(c, _) => self.cost[*c],
                };
                if c < self.cost[i] {
                    self.cost[i] = c;
                    changed = true;
                }
            }
            for (r, &root) in self.roots.iter().enumerate() {
                if self.cost[root] < rule_cost[r] {
                    rule_cost[r] = self.cost[root];
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
    }

    /// Whether an extra can match the byte `b` on its own.
    fn skips(&self, node: usize, b: u8, seen: &mut HashSet<usize>, level: usize) -> bool {
        if level > 50 || !seen.insert(node) {
            return false;
        }
        match &self.nodes[node] {
            Node::Literal(s) => s == &[b],
            Node::Pattern(Some(hir)) => hir_matches_byte(hir, b),
            Node::Rule(r) => self.skips(self.roots[*r], b, seen, level + 1),
            Node::Choice(children) => children.iter().any(|&c| self.skips(c, b, seen, level + 1)),
            Node::Seq(children) if children.len() == 1 => {
                self.skips(children[0], b, seen, level + 1)
            }
            Node::Repeat(c) | Node::Repeat1(c) | Node::Token(c, _) => {
                self.skips(*c, b, seen, level + 1)
            }
            _ => false,
        }
    }
}

fn collect_strings(value: &Value, into: &mut HashSet<Vec<u8>>, level: usize) {
    if level > 100 {
        return;
    }
    match value {
        Value::Object(map) => {
            if map.get("type").and_then(Value::as_str) == Some("STRING")
                && let Some(s) = map.get("value").and_then(Value::as_str)
            {
                into.insert(s.as_bytes().to_vec());
            }
            for v in map.values() {
                collect_strings(v, into, level + 1);
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|v| collect_strings(v, into, level + 1)),
        _ => {}
    }
}

// ---------------------------------------------------------------------------
// Regular expressions.

/// Parses a tree-sitter pattern (JavaScript syntax) with regex-syntax,
/// rewriting the JavaScript-only escapes it rejects.
fn parse_pattern(pattern: &str, flags: &str) -> Option<Hir> {
    let parse = |p: &str| {
        regex_syntax::ParserBuilder::new()
            .case_insensitive(flags.contains('i'))
            .dot_matches_new_line(flags.contains('s'))
            .octal(false)
            .build()
            .parse(p)
            .ok()
    };
    parse(pattern).or_else(|| parse(&javascript_to_rust(pattern)))
}

/// Rewrites JavaScript regex syntax regex-syntax does not accept: escapes of
/// characters that need none (`\/`, `\_`, `\'`), `\uXXXX` surrogate-free
/// escapes in `\u{XXXX}` form, `[^]` (any character), an unescaped `[`
/// inside a class, and `\cX`.
fn javascript_to_rust(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut in_class = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' if i + 1 < chars.len() => {
                let n = chars[i + 1];
                if n == 'u'
                    && i + 5 < chars.len()
                    && chars[i + 2..i + 6].iter().all(char::is_ascii_hexdigit)
                {
                    out.push_str("\\x{");
                    out.extend(&chars[i + 2..i + 6]);
                    out.push('}');
                    i += 6;
                    continue;
                }
                if n == 'c' && i + 2 < chars.len() && chars[i + 2].is_ascii_alphabetic() {
                    let code = (chars[i + 2].to_ascii_uppercase() as u32) & 0x1F;
                    out.push_str(&format!("\\x{{{code:X}}}"));
                    i += 3;
                    continue;
                }
                if n.is_ascii_alphanumeric() || regex_syntax::is_meta_character(n) {
                    out.push('\\');
                    out.push(n);
                } else if n.is_ascii() && !n.is_ascii_control() && n != ' ' {
                    // A needless escape: the character itself, escaped the
                    // Rust way where it is special.
                    out.push_str(&regex_syntax::escape(&n.to_string()));
                } else {
                    out.push(n);
                }
                i += 2;
                continue;
            }
            '[' if !in_class => {
                if chars.get(i + 1) == Some(&'^') && chars.get(i + 2) == Some(&']') {
                    out.push_str("(?s:.)");
                    i += 3;
                    continue;
                }
                in_class = true;
                out.push('[');
                // A `]` or `^]` right after the opening bracket is literal.
                if chars.get(i + 1) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if chars.get(i + 1) == Some(&']') {
                    out.push_str("\\]");
                    i += 1;
                }
            }
            '[' if in_class => out.push_str("\\["),
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            '&' | '~' | '-' if in_class && chars.get(i + 1) == Some(&c) => {
                // `&&`, `~~`, `--` are set operations in regex-syntax.
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
        i += 1;
    }
    out
}

/// Whether the expression matches the one byte `b` (a coarse test for
/// `extras`: single-character alternatives and repetitions of them).
fn hir_matches_byte(hir: &Hir, b: u8) -> bool {
    match hir.kind() {
        HirKind::Literal(lit) => lit.0.as_ref() == [b],
        HirKind::Class(Class::Unicode(class)) => class
            .ranges()
            .iter()
            .any(|r| r.start() <= b as char && b as char <= r.end()),
        HirKind::Class(Class::Bytes(class)) => class
            .ranges()
            .iter()
            .any(|r| r.start() <= b && b <= r.end()),
        HirKind::Repetition(rep) => {
            rep.min <= 1 && rep.max != Some(0) && hir_matches_byte(&rep.sub, b)
        }
        HirKind::Capture(cap) => hir_matches_byte(&cap.sub, b),
        HirKind::Alternation(alts) => alts.iter().any(|h| hir_matches_byte(h, b)),
        HirKind::Concat(items) => {
            // One item matches `b`, every other may match nothing.
            items.iter().any(|h| hir_matches_byte(h, b))
                && items
                    .iter()
                    .filter(|h| h.properties().minimum_len() != Some(0))
                    .count()
                    <= 1
        }
        HirKind::Empty | HirKind::Look(_) => false,
    }
}

/// Appends a random string matching `hir` to `out` (which holds only the
/// pattern's text: it bounds its length).
fn sample_hir(hir: &Hir, rng: &mut Rng, out: &mut Vec<u8>, level: usize) {
    if level > 200 || out.len() > 256 {
        return;
    }
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => {}
        HirKind::Literal(lit) => out.extend_from_slice(&lit.0),
        HirKind::Class(Class::Unicode(class)) => {
            let ranges: Vec<(u32, u32)> = class
                .ranges()
                .iter()
                .map(|r| (r.start() as u32, r.end() as u32))
                .collect();
            if let Some(c) = pick_in_ranges(&ranges, rng).and_then(char::from_u32) {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
        HirKind::Class(Class::Bytes(class)) => {
            let ranges: Vec<(u32, u32)> = class
                .ranges()
                .iter()
                .map(|r| (r.start() as u32, r.end() as u32))
                .collect();
            if let Some(b) = pick_in_ranges(&ranges, rng) {
                out.push(b as u8);
            }
        }
        HirKind::Repetition(rep) => {
            let max = rep.max.unwrap_or(u32::MAX);
            let n = rep
                .min
                .saturating_add(rng.below(4) as u32)
                .min(max)
                .min(rep.min.max(3) + 3);
            for _ in 0..n {
                sample_hir(&rep.sub, rng, out, level + 1);
            }
        }
        HirKind::Capture(cap) => sample_hir(&cap.sub, rng, out, level + 1),
        HirKind::Concat(items) => items
            .iter()
            .for_each(|h| sample_hir(h, rng, out, level + 1)),
        HirKind::Alternation(alts) => {
            // Alternatives that can match something: an unmatchable one
            // (an empty class) would leave the output short.
            let usable: Vec<&Hir> = alts
                .iter()
                .filter(|h| h.properties().minimum_len().is_some())
                .collect();
            if !usable.is_empty() {
                let h = usable[rng.below(usable.len())];
                sample_hir(h, rng, out, level + 1);
            }
        }
    }
}

/// A member of the ranges, preferring printable ASCII (`!`..`~`, then space).
fn pick_in_ranges(ranges: &[(u32, u32)], rng: &mut Rng) -> Option<u32> {
    for (lo, hi) in [(0x21u32, 0x7Eu32), (0x20, 0x20), (0x09, 0x0A)] {
        let clipped: Vec<(u32, u32)> = ranges
            .iter()
            .filter_map(|&(a, b)| {
                let (a, b) = (a.max(lo), b.min(hi));
                (a <= b).then_some((a, b))
            })
            .collect();
        if let Some(v) = pick_uniform(&clipped, rng) {
            return Some(v);
        }
    }
    pick_uniform(ranges, rng)
}

fn pick_uniform(ranges: &[(u32, u32)], rng: &mut Rng) -> Option<u32> {
    let total: u64 = ranges.iter().map(|&(a, b)| u64::from(b - a) + 1).sum();
    if total == 0 {
        return None;
    }
    let mut k = rng.next() % total;
    for &(a, b) in ranges {
        let size = u64::from(b - a) + 1;
        if k < size {
            return Some(a + k as u32);
        }
        k -= size;
    }
    None
}

// ---------------------------------------------------------------------------
// Derivations.

/// xorshift64*, seeded through splitmix64.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Rng(if z == 0 { 0x2545_F491_4F6C_DD1D } else { z })
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        ((self.next() >> 11) % n.max(1) as u64) as usize
    }
}

struct Derivation<'g> {
    g: &'g Grammar,
    rng: Rng,
    out: Vec<u8>,
    /// Inside a `TOKEN`: no separators.
    in_token: usize,
    /// Indentation level (grammars with `indent` / `dedent` externals).
    indent: usize,
    /// Output length at each open indent: a block must not stay empty.
    indent_marks: Vec<usize>,
    steps: usize,
    failed: bool,
    max_depth: usize,
    wind_down: usize,
}

impl Derivation<'_> {
    fn run(g: &Grammar, options: &GenOptions, seed: u64) -> Option<Vec<u8>> {
        let mut d = Derivation {
            g,
            rng: Rng::new(seed),
            out: Vec::new(),
            in_token: 0,
            indent: 0,
            indent_marks: Vec::new(),
            steps: 0,
            failed: false,
            max_depth: options.max_depth,
            wind_down: options.max_bytes / 2,
        };
        d.expand(g.roots[0], 0, 0);
        (!d.failed && d.out.len() <= options.max_bytes).then_some(d.out)
    }

    /// Within the first quarter of the depth budget: inputs grow.
    fn shallow(&self, depth: usize) -> bool {
        depth * 4 < self.max_depth
    }

    /// Past the budgets: cheapest choices only.
    fn minimal(&self, depth: usize) -> bool {
        depth >= self.max_depth || self.out.len() >= self.wind_down
    }

    fn expand(&mut self, node: usize, depth: usize, level: usize) {
        self.steps += 1;
        if self.failed || level > MAX_LEVEL || self.steps > 2_000_000 {
            self.failed = true;
            return;
        }
        let g = self.g;
        match &g.nodes[node] {
            Node::Blank => {}
            Node::Literal(s) => {
                self.separate();
                self.out.extend_from_slice(s);
            }
            Node::Pattern(None) | Node::Undefined => self.failed = true,
            Node::Pattern(Some(hir)) => {
                self.separate();
                let mut text = Vec::new();
                for _ in 0..KEYWORD_TRIES {
                    text.clear();
                    sample_hir(hir, &mut self.rng, &mut text, 0);
                    if self.in_token > 0 || !g.keywords.contains(&text) {
                        break;
                    }
                }
                self.out.extend_from_slice(&text);
            }
            Node::Rule(r) => {
                let root = g.roots[*r];
                if Some(*r) == g.word && self.in_token == 0 {
                    let start = self.out.len();
                    for _ in 0..KEYWORD_TRIES {
                        self.out.truncate(start);
                        self.expand(root, depth + 1, level + 1);
                        if !g.keywords.contains(self.out[start..].trim_ascii_start()) {
                            break;
                        }
                    }
                } else {
                    self.expand(root, depth + 1, level + 1);
                }
            }
            Node::External(e) => match g.externals[*e] {
                ExternalText::Nothing => {}
                ExternalText::Newline => self.out.push(b'\n'),
                ExternalText::Indent => {
                    self.out.push(b'\n');
                    self.indent += 1;
                    self.indent_marks.push(self.out.len());
                }
                ExternalText::Dedent => match self.indent_marks.pop() {
                    // An empty indented block is a syntax error.
                    Some(mark)
                        if self
                            .out
                            .get(mark..)
                            .is_none_or(|b| b.iter().all(u8::is_ascii_whitespace)) =>
                    {
                        self.failed = true;
                    }
                    Some(_) => self.indent -= 1,
                    None => self.failed = true,
                },
                ExternalText::Unknown => self.failed = true,
            },
            Node::Seq(children) => {
                for &c in children {
                    self.expand(c, depth, level + 1);
                }
            }
            Node::Choice(children) => {
                if let Some(c) = self.choose(children, depth) {
                    self.expand(c, depth, level + 1);
                }
            }
            Node::Repeat(c) | Node::Repeat1(c) => {
                let at_least = usize::from(matches!(g.nodes[node], Node::Repeat1(_)));
                let n = if self.minimal(depth) || g.cost[*c] >= EXTERNAL {
                    at_least
                } else if self.shallow(depth) {
                    1 + self.rng.below(3)
                } else {
                    at_least + self.rng.below(3 - at_least)
                };
                for _ in 0..n {
                    self.expand(*c, depth, level + 1);
                }
            }
            Node::Token(c, immediate) => {
                if !immediate {
                    self.separate();
                }
                self.in_token += 1;
                self.expand(*c, depth, level + 1);
                self.in_token -= 1;
            }
        }
    }

    /// An alternative: the cheapest when minimal, else a random one among
    /// those needing no unrenderable external (if any).
    fn choose(&mut self, children: &[usize], depth: usize) -> Option<usize> {
        let cost = &self.g.cost;
        let min = children.iter().map(|&c| cost[c]).min()?;
        let candidates: Vec<usize> = if self.minimal(depth) || min >= EXTERNAL {
            children
                .iter()
                .copied()
                .filter(|&c| cost[c] == min)
                .collect()
        } else {
            let usable = children.iter().copied().filter(|&c| cost[c] < EXTERNAL);
            // Near the root, half the time grow: skip the cheapest
            // alternatives (typically BLANK or a leaf).
            let richer: Vec<usize> = usable.clone().filter(|&c| cost[c] > min).collect();
            if self.shallow(depth) && !richer.is_empty() && self.rng.below(2) == 0 {
                richer
            } else {
                usable.collect()
            }
        };
        Some(candidates[self.rng.below(candidates.len())])
    }

    /// Before a token: a space (rarely a newline) after the previous one, or
    /// the indentation at the start of a line.
    fn separate(&mut self) {
        if self.in_token > 0 {
            return;
        }
        match self.out.last() {
            None | Some(b'\n') => {
                for _ in 0..self.indent {
                    self.out.extend_from_slice(b"    ");
                }
            }
            Some(last) if last.is_ascii_whitespace() || !self.g.spaced => {}
            Some(_) => {
                let newline = self.g.newlines && self.rng.below(20) == 0;
                self.out.push(if newline { b'\n' } else { b' ' });
            }
        }
    }
}

#[cfg(test)]
#[path = "../../crates/cst-loader/tests/common/lock.rs"]
mod lock;

#[cfg(test)]
mod tests {
    /// The inputs alone.
    fn generate(grammar_json: &str, options: &GenOptions) -> Result<Vec<Vec<u8>>> {
        Ok(generate_with_stats(grammar_json, options)?.inputs)
    }

    use super::*;

    /// A tiny grammar: statements of keywords, identifiers and numbers.
    const TINY: &str = r#"{
      "name": "tiny",
      "word": "identifier",
      "rules": {
        "program": {"type": "REPEAT", "content": {"type": "SYMBOL", "name": "statement"}},
        "statement": {"type": "CHOICE", "members": [
          {"type": "SEQ", "members": [
            {"type": "STRING", "value": "let"},
            {"type": "FIELD", "name": "name", "content": {"type": "SYMBOL", "name": "identifier"}},
            {"type": "STRING", "value": "="},
            {"type": "SYMBOL", "name": "expression"},
            {"type": "STRING", "value": ";"}]},
          {"type": "SEQ", "members": [
            {"type": "STRING", "value": "if"},
            {"type": "SYMBOL", "name": "expression"},
            {"type": "SYMBOL", "name": "block"}]}]},
        "block": {"type": "SEQ", "members": [
          {"type": "STRING", "value": "{"},
          {"type": "REPEAT", "content": {"type": "SYMBOL", "name": "statement"}},
          {"type": "STRING", "value": "}"}]},
        "expression": {"type": "CHOICE", "members": [
          {"type": "SYMBOL", "name": "identifier"},
          {"type": "SYMBOL", "name": "number"},
          {"type": "PREC_LEFT", "value": 1, "content": {"type": "SEQ", "members": [
            {"type": "SYMBOL", "name": "expression"},
            {"type": "STRING", "value": "+"},
            {"type": "SYMBOL", "name": "expression"}]}},
          {"type": "SEQ", "members": [
            {"type": "SYMBOL", "name": "expression"},
            {"type": "IMMEDIATE_TOKEN", "content": {"type": "STRING", "value": "!"}}]},
          {"type": "SYMBOL", "name": "_heredoc"}]},
        "identifier": {"type": "PATTERN", "value": "[a-z]{1,2}"},
        "number": {"type": "TOKEN", "content": {"type": "SEQ", "members": [
          {"type": "PATTERN", "value": "[0-9]+"},
          {"type": "CHOICE", "members": [{"type": "STRING", "value": ".5"}, {"type": "BLANK"}]}]}}
      },
      "extras": [{"type": "PATTERN", "value": "\\s"}],
      "externals": [{"type": "SYMBOL", "name": "_heredoc"}]
    }"#;

    fn options(seed: u64) -> GenOptions {
        GenOptions {
            seed,
            count: 300,
            max_depth: 6,
            max_bytes: 2000,
        }
    }

    #[test]
    fn tiny_grammar_is_deterministic_bounded_and_keyword_free() {
        let a = generate(TINY, &options(7)).unwrap();
        let b = generate(TINY, &options(7)).unwrap();
        let c = generate(TINY, &options(8)).unwrap();
        assert_eq!(a, b, "same seed, same inputs");
        assert_ne!(a, c, "another seed, other inputs");
        assert_eq!(a.len(), 300);
        for input in &a {
            let text = std::str::from_utf8(input).unwrap();
            assert!(input.len() <= 2000);
            // The external `_heredoc` is never needed, so never emitted, and
            // an immediate token follows its operand without a space.
            assert!(!text.contains(" !"), "{text:?}");
            let words: Vec<&str> = text.split_whitespace().collect();
            for pair in words.windows(2) {
                // Identifiers (named after `let`) are never keywords.
                if pair[0] == "let" {
                    assert!(!["let", "if"].contains(&pair[1]), "{text:?}");
                    assert!(pair[1].chars().all(|c| c.is_ascii_lowercase()), "{text:?}");
                }
            }
            // Depth bound: nesting of blocks stays within the budget.
            let mut open = 0usize;
            let mut deepest = 0;
            for ch in text.chars() {
                match ch {
                    '{' => {
                        open += 1;
                        deepest = deepest.max(open);
                    }
                    '}' => open -= 1,
                    _ => {}
                }
            }
            assert!(deepest <= 6, "{text:?}");
        }
        let texts: HashSet<&[u8]> = a.iter().map(Vec::as_slice).collect();
        assert!(texts.len() > 100, "varied inputs: {}", texts.len());
        assert!(
            texts.iter().any(|t| t.windows(2).any(|w| w == b"{ ")),
            "nested blocks occur"
        );
    }

    #[test]
    fn depth_budget_keeps_inputs_small() {
        let shallow = GenOptions {
            max_depth: 1,
            ..options(3)
        };
        let inputs = generate(TINY, &shallow).unwrap();
        assert!(!inputs.is_empty());
        for input in inputs {
            // Past the budget only the cheapest alternatives: no compound
            // expressions, blocks without statements.
            let text = String::from_utf8(input).unwrap();
            assert!(!text.contains(['+', '!']), "{text:?}");
            assert!(!text.contains("{ l") && !text.contains("{ i"), "{text:?}");
        }
    }

    #[test]
    fn words_are_never_keywords() {
        // Half the words the pattern can make are keywords of the grammar.
        let grammar = r#"{"word": "id", "rules": {
            "s": {"type": "REPEAT1", "content": {"type": "SYMBOL", "name": "id"}},
            "id": {"type": "PATTERN", "value": "[ei][tf]"},
            "keyword": {"type": "CHOICE", "members": [
              {"type": "STRING", "value": "if"}, {"type": "STRING", "value": "et"}]}}}"#;
        let inputs = generate(grammar, &options(5)).unwrap();
        let text: Vec<u8> = inputs.join(&b' ');
        let words: HashSet<&str> = std::str::from_utf8(&text)
            .unwrap()
            .split_whitespace()
            .collect();
        assert_eq!(words, HashSet::from(["ef", "it"]));
    }

    #[test]
    fn odd_grammars_give_errors_not_panics() {
        let o = options(1);
        assert!(generate("not json", &o).is_err());
        assert!(generate(r#"{"rules": {}}"#, &o).is_err());
        assert!(generate(r#"{"rules": {"a": {"type": "NOPE"}}}"#, &o).is_err());
        // A rule that cannot terminate, an undefined symbol, a bad pattern:
        // no inputs, no panic.
        let endless = r#"{"rules": {"a": {"type": "SEQ", "members": [
            {"type": "STRING", "value": "x"}, {"type": "SYMBOL", "name": "a"}]}}}"#;
        let g = generate_with_stats(endless, &o).unwrap();
        assert!(g.inputs.is_empty() && g.skipped > 0);
        let undefined = r#"{"rules": {"a": {"type": "SYMBOL", "name": "b"}}}"#;
        assert!(generate(undefined, &o).unwrap().is_empty());
        let bad = r#"{"rules": {"a": {"type": "PATTERN", "value": "(?<=x)y"}}}"#;
        assert!(generate(bad, &o).unwrap().is_empty());
        // No extras key: tree-sitter's default (whitespace).
        let plain = r#"{"rules": {"a": {"type": "SEQ", "members": [
            {"type": "STRING", "value": "x"}, {"type": "STRING", "value": "y"}]}}}"#;
        assert_eq!(generate(plain, &o).unwrap()[0], b"x y");
    }

    #[test]
    fn javascript_patterns_are_rewritten() {
        for p in [
            r"\/\/[^\n]*",
            r"[^]",
            r"\u00e9",
            r"[\w\-\.]+",
            r"[^\]\[]",
            r"a\_b",
            r"\cJ",
        ] {
            assert!(parse_pattern(p, "").is_some(), "{p}");
        }
        let mut rng = Rng::new(1);
        let mut out = Vec::new();
        sample_hir(
            &parse_pattern(r"\/\/[^\n]*", "").unwrap(),
            &mut rng,
            &mut out,
            0,
        );
        assert!(out.starts_with(b"//"));
    }

    // --- Against real grammars -------------------------------------------

    /// `src/grammar.json` of a crate of the lock, found through
    /// `cargo metadata`.
    fn grammar_json(krate: &str) -> Option<String> {
        let dir = super::lock::package_dir(krate).ok()?;
        std::fs::read_to_string(dir.join("src/grammar.json")).ok()
    }

    /// Share of generated inputs the compiled grammar parses without ERROR
    /// or MISSING nodes, and the number generated.
    pub(crate) fn clean_rate(id: &str, options: &GenOptions) -> (f64, usize) {
        let grammar = cst_grammars::by_id(id).unwrap();
        let json = grammar_json(grammar.crate_name()).expect("grammar.json of the crate");
        let inputs = generate(&json, options).unwrap();
        let mut parser = grammar.parser().unwrap();
        let clean = inputs
            .iter()
            .filter(|input| {
                parser
                    .parse(input, None)
                    .is_some_and(|tree| !tree.root_node().has_error())
            })
            .count();
        (clean as f64 / inputs.len().max(1) as f64, inputs.len())
    }

    #[test]
    fn generated_inputs_parse_cleanly() {
        let options = GenOptions {
            seed: 1,
            count: 200,
            max_depth: 10,
            max_bytes: 4096,
        };
        for id in [
            "json",
            "go",
            "lua",
            "python",
            "c",
            "rust",
            "javascript",
            "java",
            "toml",
        ] {
            let (rate, n) = clean_rate(id, &options);
            eprintln!("{id}: {n} generated inputs, {:.1}% clean", rate * 100.0);
            if !["json", "go", "lua", "python"].contains(&id) {
                continue;
            }
            assert!(n >= 150, "{id}: only {n} inputs");
            assert!(rate >= 0.8, "{id}: {:.0}% clean", rate * 100.0);
        }
    }
}
