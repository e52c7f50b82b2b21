//! Outlines: the definitions of a file, nested as the tree nests them.

use std::ops::Range;

use cst_bytecode::{Point, TreeView};

use crate::tags::{Tag, TagsConfig};

/// One definition in an outline, with the definitions inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutlineItem {
    /// The syntax type (`function`, `class`, `method`, …).
    pub kind: String,
    /// The defined name (lossily decoded).
    pub name: String,
    /// The byte range of the definition (the tagged node and its name).
    pub range: Range<usize>,
    /// The byte range of the name.
    pub name_range: Range<usize>,
    /// Where the definition starts (zero-based row, byte column).
    pub start: Point,
    /// Where the definition ends.
    pub end: Point,
    /// Definitions nested in this one, in source order.
    pub children: Vec<OutlineItem>,
}

impl OutlineItem {
    /// This item and every nested item, depth first, with their depth.
    pub fn walk(&self) -> Vec<(usize, &OutlineItem)> {
        let mut out = Vec::new();
        let mut stack = vec![(0usize, self)];
        while let Some((d, item)) = stack.pop() {
            out.push((d, item));
            for c in item.children.iter().rev() {
                stack.push((d + 1, c));
            }
        }
        out
    }
}

/// Nests the definitions among `tags` by range containment: a definition
/// whose range lies within another's is its child. Other tags are left out,
/// except `implementation` references, which are containers (Rust's `impl`
/// blocks, tagged `@reference.implementation`, hold the methods). Items
/// come in source order.
pub fn outline(
    config: &TagsConfig,
    tags: &[Tag],
    view: &TreeView,
    source: &[u8],
) -> Vec<OutlineItem> {
    build(
        &|id| config.syntax_type_name(id),
        tags,
        &|b| view.point_for_byte(b),
        source,
    )
}

/// [`outline`] without a tree: syntax type names by id, points computed
/// from the source's lines.
pub fn outline_with(kinds: &[String], tags: &[Tag], source: &[u8]) -> Vec<OutlineItem> {
    let mut starts = vec![0usize];
    starts.extend(
        source
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .map(|(i, _)| i + 1),
    );
    let point = |b: usize| {
        let row = starts.partition_point(|&s| s <= b).saturating_sub(1);
        Point {
            row,
            column: b - starts[row],
        }
    };
    build(
        &|id| kinds.get(id as usize).map_or("", String::as_str),
        tags,
        &point,
        source,
    )
}

fn build<'k>(
    kind: &dyn Fn(u32) -> &'k str,
    tags: &[Tag],
    point: &dyn Fn(usize) -> Point,
    source: &[u8],
) -> Vec<OutlineItem> {
    let mut defs: Vec<&Tag> = tags
        .iter()
        .filter(|t| t.is_definition || kind(t.syntax_type_id) == "implementation")
        .collect();
    // Outer first: by start, then the longer range first.
    defs.sort_by_key(|t| {
        (
            t.range.start,
            std::cmp::Reverse(t.range.end),
            t.name_range.start,
        )
    });
    let mut roots: Vec<OutlineItem> = Vec::new();
    // Open items, outermost first; each is moved into its parent when closed.
    let mut stack: Vec<OutlineItem> = Vec::new();
    let close = |stack: &mut Vec<OutlineItem>, roots: &mut Vec<OutlineItem>| {
        if let Some(done) = stack.pop() {
            match stack.last_mut() {
                Some(parent) => parent.children.push(done),
                None => roots.push(done),
            }
        }
    };
    for t in defs {
        while let Some(top) = stack.last() {
            if top.range.start <= t.range.start && t.range.end <= top.range.end {
                break;
            }
            close(&mut stack, &mut roots);
        }
        stack.push(OutlineItem {
            kind: kind(t.syntax_type_id).to_string(),
            name: t.name(source).into_owned(),
            range: t.range.clone(),
            name_range: t.name_range.clone(),
            start: point(t.range.start),
            end: point(t.range.end),
            children: Vec::new(),
        });
    }
    while !stack.is_empty() {
        close(&mut stack, &mut roots);
    }
    roots
}

/// The chain of outline items whose ranges contain `range`, outermost first.
pub fn enclosing<'o>(items: &'o [OutlineItem], range: &Range<usize>) -> Vec<&'o OutlineItem> {
    let mut path = Vec::new();
    let mut level = items;
    loop {
        // Items of a level are sorted by start and do not nest in each other.
        let i = level.partition_point(|it| it.range.start <= range.start);
        let Some(candidate) = i.checked_sub(1).map(|i| &level[i]) else {
            break;
        };
        if candidate.range.end < range.end {
            break;
        }
        path.push(candidate);
        level = &candidate.children;
    }
    path
}
