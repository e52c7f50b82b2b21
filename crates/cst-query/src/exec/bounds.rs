//! A query's ranges as byte thresholds in one tree: tree-sitter compares
//! each node's points with a point range, which a stored tree would have to
//! read from its line table for every node; the same answers come from
//! comparing the node's bytes with a few bytes found once per range.
//!
//! A point grows with its byte, strictly (`TreeView::point_for_byte`: the
//! row is the number of line starts at or before the byte, less one; the
//! column the distance from that line's start). So for any point `p` the
//! bytes whose point is before `p` are `0..lt(p)`, and those whose point is
//! at or before it `0..le(p)`, where `le(p)` is `lt(p) + 1` when some byte
//! is at `p`, else `lt(p)`.

use cst_bytecode::{Point, TreeView};

use super::Range;

/// Past every byte.
const PAST: u64 = u64::MAX;

/// A [`Range`] in one tree: its bytes, and its points as byte thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bounds {
    start_byte: u64,
    end_byte: u64,
    /// The bytes whose point is before the start point: `0..start_lt`; at
    /// or before it: `0..start_le`.
    start_lt: u64,
    start_le: u64,
    /// As `start_lt` and `start_le`, for the end point.
    end_lt: u64,
    end_le: u64,
}

impl Bounds {
    pub fn new(range: &Range, view: &TreeView) -> Bounds {
        let (start_lt, start_le) = thresholds(view, range.start_point);
        let (end_lt, end_le) = thresholds(view, range.end_point);
        Bounds {
            start_byte: range.start_byte.into(),
            end_byte: range.end_byte.into(),
            start_lt,
            start_le,
            end_lt,
            end_le,
        }
    }

    /// Whether no node lies outside this range (the whole tree's, as
    /// `Range::ALL`): [`Bounds::starts_past`] and [`Bounds::ends_before`]
    /// never hold (a node starts below 4 GiB − 1).
    pub fn is_everything(&self) -> bool {
        self.start_byte == 0
            && self.start_lt == 0
            && self.end_byte >= u64::from(u32::MAX)
            && self.end_lt == PAST
    }

    /// tree-sitter's `range_intersects` of a node from `start` to `end`
    /// with this range.
    #[inline]
    pub fn intersected_by(&self, start: u32, end: u32) -> bool {
        !self.starts_past(start) && !self.ends_before(start, || end)
    }

    /// Whether a node starting at `start` starts at or past the end (its
    /// byte or its point): it does not intersect the range.
    #[inline]
    pub fn starts_past(&self, start: u32) -> bool {
        let s = u64::from(start);
        s >= self.end_byte || s >= self.end_lt
    }

    /// Whether a node from `start` to `end` ends before the start (its byte
    /// or its point), an empty node at the start intersecting: it does not
    /// intersect the range. `end` is read only for a node starting before
    /// the start (one that starts at or after it ends there or after, or is
    /// empty at the start point's byte).
    #[inline]
    pub fn ends_before(&self, start: u32, end: impl FnOnce() -> u32) -> bool {
        let s = u64::from(start);
        if s >= self.start_byte && s >= self.start_lt {
            return false;
        }
        let e = u64::from(end());
        let empty = s == e;
        // `a.end_byte > b.start_byte || (empty && a.end_byte == b.start_byte)`
        // and `a.end_point > b.start_point || (empty && a.end_point ==
        // b.start_point)`.
        !((e > self.start_byte || (empty && e == self.start_byte))
            && (e >= self.start_le || (empty && e >= self.start_lt)))
    }

    /// tree-sitter's `range_within` of a node from `start` to `end` in this
    /// range.
    #[inline]
    pub fn contains(&self, start: u32, end: u32) -> bool {
        let (s, e) = (u64::from(start), u64::from(end));
        s >= self.start_byte && s >= self.start_lt && e <= self.end_byte && e < self.end_le
    }

    /// Whether byte `end`'s point is at or before the start point.
    #[inline]
    pub fn at_or_before_start_point(&self, end: u32) -> bool {
        u64::from(end) < self.start_le
    }

    /// Whether byte `start`'s point is at or after the end point.
    #[inline]
    pub fn at_or_after_end_point(&self, start: u32) -> bool {
        u64::from(start) >= self.end_lt
    }
}

/// (`lt(p)`, `le(p)`) in `view` (see the module's documentation).
fn thresholds(view: &TreeView, p: Point) -> (u64, u64) {
    let rows = view.line_count();
    if p.row >= rows {
        // Every byte's row is before.
        return (PAST, PAST);
    }
    let line_start = |row| view.byte_for_point(Point { row, column: 0 }) as u64;
    let at = line_start(p.row).saturating_add(p.column as u64);
    if p.row + 1 < rows {
        // Past the line's last byte (its `\n`): no byte is at `p`, and the
        // next line's bytes are after it.
        let next = line_start(p.row + 1);
        if at >= next {
            return (next, next);
        }
    }
    (at, at.saturating_add(1))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use cst_bytecode::{Symbols, TreeView};

    use super::*;
    use crate::exec::POINT_MAX;

    /// tree-sitter's `range_intersects` and `range_within` on points, as
    /// the engine computed them before the thresholds.
    fn intersects(a: (u32, u32, Point, Point), b: &Range) -> bool {
        let (sb, eb, sp, ep) = a;
        let empty = sb == eb;
        (eb > b.start_byte || (empty && eb == b.start_byte))
            && (ep > b.start_point || (empty && ep == b.start_point))
            && sb < b.end_byte
            && sp < b.end_point
    }

    fn within(a: (u32, u32, Point, Point), b: &Range) -> bool {
        let (sb, eb, sp, ep) = a;
        sb >= b.start_byte && sp >= b.start_point && eb <= b.end_byte && ep <= b.end_point
    }

    /// Every pair of bytes of a source with empty, short and long lines,
    /// against ranges at, between and past its points and bytes: the
    /// thresholds answer as the points do.
    #[test]
    fn thresholds_answer_as_points_do() {
        let g = cst_grammars::by_id("python").unwrap();
        let source = b"a = 1\n\n  bb = [1,\n 2]\nc\n\n".to_vec();
        let fp = g.fingerprint().unwrap().0;
        let tree = g.parser().unwrap().parse(&source, None).unwrap();
        let bytes = cst_bytecode::encode(&tree, &source, fp).unwrap();
        let symbols = Arc::new(Symbols::from_language(&g.language().unwrap(), fp));
        let view = TreeView::open(&bytes, symbols).unwrap();
        let len = source.len() as u32;
        let point = |b: u32| view.point_for_byte(b as usize);
        let mut points = vec![Point::default(), POINT_MAX];
        for row in 0..view.line_count() + 2 {
            for column in [0, 1, 2, 3, 5, 9, usize::MAX] {
                points.push(Point { row, column });
            }
        }
        let mut ranges = vec![Range::ALL];
        for &sp in &points {
            for &ep in &points {
                ranges.push(Range {
                    start_point: sp,
                    end_point: ep,
                    ..Range::ALL
                });
            }
        }
        for a in 0..=len + 1 {
            for b in a..=len + 1 {
                ranges.push(Range {
                    start_byte: a,
                    end_byte: b,
                    start_point: point(a),
                    end_point: point(b),
                });
            }
        }
        assert!(Bounds::new(&Range::ALL, &view).is_everything());
        let narrow = Range {
            end_byte: len / 2,
            ..Range::ALL
        };
        assert!(!Bounds::new(&narrow, &view).is_everything());
        let mut checked = 0usize;
        for r in &ranges {
            let bounds = Bounds::new(r, &view);
            for s in 0..=len {
                for e in s..=len {
                    let node = (s, e, point(s), point(e));
                    // A range that excludes nothing holds every node.
                    if bounds.is_everything() {
                        assert!(intersects(node, r), "{s}..{e} outside {r:?}");
                    }
                    assert_eq!(
                        bounds.intersected_by(s, e),
                        intersects(node, r),
                        "intersects: {s}..{e} with {r:?}"
                    );
                    assert_eq!(
                        bounds.contains(s, e),
                        within(node, r),
                        "within: {s}..{e} in {r:?}"
                    );
                    assert_eq!(
                        bounds.at_or_before_start_point(e),
                        point(e) <= r.start_point,
                        "{e} by the start of {r:?}"
                    );
                    assert_eq!(
                        bounds.at_or_after_end_point(s),
                        point(s) >= r.end_point,
                        "{s} from the end of {r:?}"
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 100_000, "{checked}");
    }
}
