//! The matching engine: tree-sitter's `ts_query_cursor__advance`,
//! `ts_query_cursor_next_match`, `ts_query_cursor_next_capture` and
//! `ts_query_cursor_remove_match` (lib/src/query.c), rewritten over a
//! [`QTree`]. States, their order, the capture-list pool, the finished-state
//! heap and the longest-match rules follow the C code step for step, quirks
//! included, because the order of results depends on all of them.

use cst_bytecode::{Node, Point};

use crate::KindTable;
use crate::raw::{NO_ENTRY, NONE, Program, Step};
use crate::tree::{Cursor, Lazy, QTree, Step as Move};

mod bounds;
mod states;
pub(crate) use bounds::Bounds;
use states::{Pool, State};

/// `CAPTURE_LIST_NONE`.
const LIST_NONE: u32 = u32::MAX;
/// `consumed_capture_count` is a 12-bit field in tree-sitter.
const CONSUMED_MASK: u16 = 0xfff;

/// A byte and point range, as `TSRange`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Range {
    pub start_byte: u32,
    pub end_byte: u32,
    pub start_point: Point,
    pub end_point: Point,
}

pub(crate) const POINT_MAX: Point = Point {
    row: u32::MAX as usize,
    column: u32::MAX as usize,
};

impl Range {
    pub const ALL: Range = Range {
        start_byte: 0,
        end_byte: u32::MAX,
        start_point: Point { row: 0, column: 0 },
        end_point: POINT_MAX,
    };
}

/// A captured node: its walk index in the execution's [`QTree`] (unique per visible node).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Capture {
    pub node: u32,
    pub index: u16,
    pub start: u32,
    pub end: u32,
    /// The kind id tree-sitter reports for the captured node: its own, but
    /// for a parent captured from its child, the kind
    /// `ts_tree_cursor_parent_node` gives (the slot's alias, even on an
    /// ERROR or extra parent).
    pub kind: u16,
}

/// Everything an execution needs besides the tree.
#[derive(Clone, Copy)]
pub(crate) struct Options {
    pub included: Range,
    pub containing: Range,
    pub max_start_depth: u32,
    pub match_limit: u32,
    /// The execution returns matches ([`Exec::next_match`]), not captures.
    pub matches_only: bool,
}

/// A match as returned to the iterators; its captures are
/// [`Exec::captures`] until the next call.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawMatch {
    pub id: u32,
    pub pattern_index: u16,
}

/// With more than one node in this many as candidates, the walk tree is
/// built whole: lazy subtrees would cost more than they save (callgrind,
/// TypeScript's highlights: 23% more instructions at one in four, none
/// at one in eight; C's tags query is lazy at both).
const CANDIDATE_SHARE: usize = 8;

/// Byte ranges over less than one byte in this many of the tree leave the
/// walk tree without candidates (see [`candidates`]).
const WINDOW_SHARE: u64 = 4;

/// The visible nodes of `root`'s subtree that a pattern can start on (see
/// [`QTree`]), or `None` when any node can start one (a wildcard or
/// supertype root) or so many can that skipping would not pay.
///
/// A state starts on a visible node only through the pattern map: for its
/// wildcard-root entries on any node, else for the entries of the node's
/// kind (`enter_visible`). Without wildcard-root entries, a node whose kind
/// has no entry starts nothing, so a subtree without such a node changes
/// nothing while no state is in progress.
///
/// `None` too when the byte ranges leave less than one byte in
/// [`WINDOW_SHARE`] of the tree: what lies outside them is not built
/// anyway ([`QTree`]), and the scan for candidates would read every node
/// to save little in the window.
///
/// `drop_failing`: leave out the nodes of the kinds each of whose
/// patterns needs a node of a kind no node of the tree has
/// ([`Program::kind_needs`], checked against the tree's palette of node
/// types: no node is read). The states such a node starts all fail, and
/// in matches mode without a match limit a failing state changes nothing
/// returned: match ids are given as matches are returned, states are kept
/// in an order failing ones do not change, and the capture-list pool has
/// no bound to exhaust. (In captures mode a state in progress holds back
/// captures after its own, which can change their order: not there.)
fn candidates(
    program: &Program,
    root: Node<'_>,
    ranges: &[Range],
    drop_failing: bool,
) -> Option<Vec<u32>> {
    if program.wildcard_root_pattern_count != 0 {
        return None;
    }
    let (start, end) = (root.start_byte() as u32, root.end_byte() as u32);
    let (lo, hi) = ranges.iter().fold((start, end), |(lo, hi), r| {
        (lo.max(r.start_byte), hi.min(r.end_byte))
    });
    if u64::from(hi.saturating_sub(lo)) * WINDOW_SHARE < u64::from(end.saturating_sub(start)) {
        return None;
    }
    let limit = root.descendant_count() / CANDIDATE_SHARE;
    let view = root.tree();
    if drop_failing && !program.kind_needs.is_empty() {
        let present = view.kinds_present(&program.needed_kinds);
        let absent = |k: &u16| {
            program
                .needed_kinds
                .binary_search(k)
                .is_ok_and(|i| !present[i])
        };
        let doomed: Vec<u16> = program
            .kind_needs
            .iter()
            .filter(|(_, entries)| entries.iter().all(|needs| needs.iter().any(absent)))
            .map(|x| x.0)
            .collect();
        if !doomed.is_empty() {
            let starts: Vec<u16> = program
                .start_symbols
                .iter()
                .copied()
                .filter(|s| doomed.binary_search(s).is_err())
                .collect();
            return view.nodes_of_kinds(root, &starts, limit);
        }
    }
    view.nodes_of_kinds(root, &program.start_symbols, limit)
}

/// What an execution allocates, emptied, for a query cursor to keep
/// for its next execution: its walk tree's buffers, its state lists and
/// its capture lists.
#[derive(Default)]
pub(crate) struct Buffers {
    tree: crate::tree::Buffers,
    states: Vec<State>,
    finished: Vec<State>,
    lists: Vec<Vec<Capture>>,
}

impl Buffers {
    /// Room for walk nodes.
    pub fn capacity(&self) -> usize {
        self.tree.capacity()
    }
}

/// The fewest states after a pass at a node some state could take for
/// the next node to compare them with (see [`Exec::settled_states`]).
const SNAPSHOT_STATES: usize = 4;

/// One execution of a query over a tree (`TSQueryCursor` after `exec`).
pub(crate) struct Exec<'q, 't> {
    program: &'q Program,
    kinds: &'q KindTable,
    tree: QTree<'t>,
    cursor: Cursor,
    states: Vec<State>,
    finished: Vec<State>,
    heap_size: usize,
    pool: Pool,
    /// The captures of the match returned last (one buffer for all, so
    /// that returning a match allocates nothing here).
    returned: Vec<Capture>,
    depth: u32,
    max_start_depth: u32,
    included: Range,
    containing: Range,
    /// The two ranges in this tree (`range_intersects` and `range_within`
    /// without reading points).
    included_bounds: Bounds,
    containing_bounds: Bounds,
    default_ranges: bool,
    next_state_id: u32,
    next_finished_id: u32,
    on_visible_node: bool,
    /// The last visible node entered ran its longest-match pass without a
    /// change, and nothing changed the states since. Entering a node deeper
    /// than every state's next step then runs the same pass on the same
    /// states (its flags are reset first, no step can match, the stable
    /// sort keeps their order), so it changes nothing either: a subtree
    /// where no pattern starts can be passed over (`advance`).
    settled: bool,
    /// The states as a longest-match pass that changed nothing left them,
    /// and the capture pool's generation then (`settled_valid`). The pass
    /// reads only the states, their flags reset first, and their capture
    /// lists: not the node, not the depth. Given the same states again
    /// (their flags aside) with no list changed since, it would change
    /// nothing again, and is not run. Kept after every such pass at a node
    /// no state can take (the states there are most often those of the
    /// node before), and after one elsewhere with at least
    /// [`SNAPSHOT_STATES`] states (a copy per node costs more than a
    /// short pass saves).
    settled_states: Vec<State>,
    settled_generation: u64,
    settled_valid: bool,
    ascending: bool,
    halted: bool,
    pub did_exceed_match_limit: bool,
    /// For an execution whose walk tree leaves the hidden nodes out: how
    /// to run it again with them (see [`Exec::with_hidden_nodes`]).
    redo: Option<Box<Redo<'t>>>,
}

/// An execution's root, options and the calls made on it so far, to run
/// it again from the start.
struct Redo<'t> {
    root: Node<'t>,
    options: Options,
    calls: Vec<Call>,
}

/// Calls on an execution, consecutive `next_match` and `next_capture`
/// calls counted together.
#[derive(Clone, Copy)]
enum Call {
    NextMatch(u32),
    NextCapture(u32),
    Remove(u32),
}

impl Redo<'_> {
    fn record(&mut self, call: Call) {
        match (self.calls.last_mut(), call) {
            (Some(Call::NextMatch(n)), Call::NextMatch(1)) if *n < u32::MAX => *n += 1,
            (Some(Call::NextCapture(n)), Call::NextCapture(1)) if *n < u32::MAX => *n += 1,
            _ => self.calls.push(call),
        }
    }
}

impl<'q, 't> Exec<'q, 't> {
    pub fn new(
        program: &'q Program,
        kinds: &'q KindTable,
        root: Node<'t>,
        options: &Options,
        buffers: Buffers,
    ) -> Self {
        let default_ranges = options.included == Range::ALL && options.containing == Range::ALL;
        // tree-sitter's walk enters a hidden node and leaves it without
        // reading anything or changing a state: only on a visible node are
        // states started, advanced, finished or failed, and the depth
        // counts visible nodes alone. A hidden node matters only when the
        // walk does not descend into it, which it always does without
        // ranges and start depth (`should_descend`), and to a step that
        // names a supertype (the hidden chain above the node). Every
        // hidden node the walk enters is a span or a visible node's
        // wrapper (read from the node's type): with no span of a
        // supertype's symbol, the wrappers hold every supertype of the
        // chain (`enter_visible` reads them). Without ranges, start depth
        // and such spans, the walk tree holds the visible nodes only.
        // Should the ranges change while it runs, it is run again with
        // the hidden nodes (`with_hidden_nodes`).
        let supertype_spans = program.supertype_steps
            && root
                .tree()
                .hidden_spans()
                .symbols()
                .any(|s| kinds.is_supertype(s));
        let visible_only =
            default_ranges && options.max_start_depth == u32::MAX && !supertype_spans;
        Self::build(program, kinds, root, options, buffers, visible_only)
    }

    fn build(
        program: &'q Program,
        kinds: &'q KindTable,
        root: Node<'t>,
        options: &Options,
        buffers: Buffers,
        visible_only: bool,
    ) -> Self {
        let view = root.tree();
        let (included_bounds, containing_bounds) = (
            Bounds::new(&options.included, view),
            Bounds::new(&options.containing, view),
        );
        Exec {
            program,
            kinds,
            tree: QTree::build(
                root,
                candidates(
                    program,
                    root,
                    &[options.included, options.containing],
                    options.matches_only && options.match_limit == u32::MAX,
                ),
                &[included_bounds, containing_bounds],
                buffers.tree,
                visible_only,
            ),
            included_bounds,
            containing_bounds,
            cursor: Cursor::new(),
            states: buffers.states,
            finished: buffers.finished,
            heap_size: 0,
            pool: Pool::new(options.match_limit, buffers.lists),
            returned: Vec::new(),
            depth: 0,
            max_start_depth: options.max_start_depth,
            included: options.included,
            containing: options.containing,
            default_ranges: options.included == Range::ALL && options.containing == Range::ALL,
            next_state_id: 0,
            next_finished_id: 0,
            on_visible_node: true,
            settled: false,
            settled_states: Vec::new(),
            settled_generation: 0,
            settled_valid: false,
            ascending: false,
            halted: false,
            did_exceed_match_limit: false,
            redo: visible_only.then(|| {
                Box::new(Redo {
                    root,
                    options: *options,
                    calls: Vec::new(),
                })
            }),
        }
    }

    /// Makes an execution whose walk tree leaves the hidden nodes out into
    /// one with them, at the same point: the execution is run again from
    /// the start with them, with the calls made on this one. Both walks
    /// handle the same visible nodes in the same order (see [`Exec::new`]),
    /// so the calls return what they returned, and the new execution
    /// stands where tree-sitter's would.
    fn with_hidden_nodes(&mut self) {
        let Some(redo) = self.redo.take() else {
            return;
        };
        let mut exec = Self::build(
            self.program,
            self.kinds,
            redo.root,
            &redo.options,
            Buffers::default(),
            false,
        );
        for call in redo.calls {
            match call {
                Call::NextMatch(n) => {
                    for _ in 0..n {
                        exec.next_match();
                    }
                }
                Call::NextCapture(n) => {
                    for _ in 0..n {
                        exec.next_capture();
                    }
                }
                Call::Remove(id) => exec.remove_match(id),
            }
        }
        *self = exec;
    }

    pub fn tree(&self) -> &QTree<'t> {
        &self.tree
    }

    /// Ends the execution, handing out its buffers (see [`Buffers`]).
    pub fn take_buffers(&mut self) -> Buffers {
        self.halted = true;
        let mut states = std::mem::take(&mut self.states);
        let mut finished = std::mem::take(&mut self.finished);
        states.clear();
        finished.clear();
        self.heap_size = 0;
        Buffers {
            tree: self.tree.take_buffers(),
            states,
            finished,
            lists: self.pool.take_lists(),
        }
    }

    /// Changes the included range of a running execution, as
    /// `ts_query_cursor_set_byte_range` / `_set_point_range` do.
    pub fn set_included(&mut self, included: Range) {
        if included != Range::ALL {
            self.with_hidden_nodes();
        }
        self.included = included;
        self.included_bounds = Bounds::new(&included, self.tree.view);
        self.default_ranges = self.included == Range::ALL && self.containing == Range::ALL;
    }

    pub fn included(&self) -> Range {
        self.included
    }

    fn step(&self, i: u16) -> &'q Step {
        &self.program.steps[usize::from(i)]
    }

    /// Whether byte `end`'s point is at or before the included start point
    /// (never, when that point is the origin: only byte 0 is there, and the
    /// byte test comes first).
    fn before_included_start_point(&self, end: u32) -> bool {
        self.included.start_point != Point::default()
            && self.included_bounds.at_or_before_start_point(end)
    }

    /// Whether byte `start`'s point is at or after the included end point
    /// (never, when that point is the largest).
    fn after_included_end_point(&self, start: u32) -> bool {
        self.included.end_point != POINT_MAX && self.included_bounds.at_or_after_end_point(start)
    }

    /// Walk node `q`'s start and end bytes.
    fn node_bytes(&self, q: u32) -> (u32, u32) {
        let n = &self.tree.nodes[q as usize];
        (n.start, n.end)
    }

    // --- states ----------------------------------------------------------

    /// `ts_query_cursor__first_in_progress_capture`: (state index, byte,
    /// pattern, is_definite). With `want_definite` false, states at a
    /// guaranteed step are passed over (as with a null `is_definite`).
    fn first_in_progress_capture(
        &mut self,
        want_definite: bool,
    ) -> Option<(usize, u32, u32, bool)> {
        let mut result: Option<(usize, u32, u32, bool)> = None;
        let mut i = 0;
        while i < self.states.len() {
            let state = self.states[i];
            if state.dead {
                i += 1;
                continue;
            }
            let captures = self.pool.get(state.capture_list_id);
            let Some(c) = captures.get(usize::from(state.consumed_capture_count)) else {
                i += 1;
                continue;
            };
            let (start, end) = (c.start, c.end);
            if end <= self.included.start_byte || self.before_included_start_point(end) {
                let s = &mut self.states[i];
                s.consumed_capture_count = (s.consumed_capture_count + 1) & CONSUMED_MASK;
                continue;
            }
            let better = match result {
                None => true,
                Some((_, byte, pattern, _)) => {
                    start < byte || (start == byte && u32::from(state.pattern_index) < pattern)
                }
            };
            if better {
                let step = self.step(state.step_index);
                let definite = if want_definite {
                    step.root_pattern_guaranteed && !step.is_immediate
                } else {
                    if step.root_pattern_guaranteed {
                        i += 1;
                        continue;
                    }
                    false
                };
                result = Some((i, start, u32::from(state.pattern_index), definite));
            }
            i += 1;
        }
        result
    }

    /// `ts_query_cursor__compare_nodes` on two captures.
    fn compare_nodes(a: &Capture, b: &Capture) -> std::cmp::Ordering {
        use std::cmp::Ordering::*;
        if a.node != b.node {
            if a.start < b.start {
                return Less;
            }
            if a.start > b.start {
                return Greater;
            }
            if a.end > b.end {
                return Less;
            }
            if a.end < b.end {
                return Greater;
            }
        }
        Equal
    }

    /// `ts_query_cursor__compare_captures`: (left contains right, right contains left).
    fn compare_captures(&self, left: &State, right: &State) -> (bool, bool) {
        let (l, r) = (
            self.pool.get(left.capture_list_id),
            self.pool.get(right.capture_list_id),
        );
        let (mut lcr, mut rcl) = (true, true);
        let (mut i, mut j) = (0, 0);
        loop {
            if i < l.len() {
                if j < r.len() {
                    let (a, b) = (&l[i], &r[j]);
                    if a.node == b.node && a.index == b.index {
                        i += 1;
                        j += 1;
                    } else {
                        match Self::compare_nodes(a, b) {
                            std::cmp::Ordering::Less => {
                                rcl = false;
                                i += 1;
                            }
                            std::cmp::Ordering::Greater => {
                                lcr = false;
                                j += 1;
                            }
                            std::cmp::Ordering::Equal => {
                                rcl = false;
                                lcr = false;
                                i += 1;
                                j += 1;
                            }
                        }
                    }
                } else {
                    rcl = false;
                    break;
                }
            } else {
                if j < r.len() {
                    lcr = false;
                }
                break;
            }
        }
        (lcr, rcl)
    }

    /// `ts_query_cursor__state_precedes`.
    fn state_precedes(&self, a: &State, b: &State) -> bool {
        if a.start_depth != b.start_depth {
            return a.start_depth < b.start_depth;
        }
        if a.pattern_index != b.pattern_index {
            return a.pattern_index < b.pattern_index;
        }
        let (ac, bc) = (
            self.pool.get(a.capture_list_id),
            self.pool.get(b.capture_list_id),
        );
        if ac.is_empty() != bc.is_empty() {
            return ac.is_empty();
        }
        if ac.is_empty() {
            return false;
        }
        ac[0].start < bc[0].start
    }

    /// `ts_query_cursor__sort_states_by_capture`: a stable insertion sort.
    fn sort_states_by_capture(&mut self) {
        for i in 1..self.states.len() {
            if !self.state_precedes(&self.states[i], &self.states[i - 1]) {
                continue;
            }
            let key = self.states[i];
            let mut j = i;
            loop {
                self.states[j] = self.states[j - 1];
                j -= 1;
                if !(j > 0 && self.state_precedes(&key, &self.states[j - 1])) {
                    break;
                }
            }
            self.states[j] = key;
        }
    }

    /// `ts_query_cursor__add_state`.
    fn add_state(&mut self, entry_index: usize) {
        let pattern = self.program.pattern_map[entry_index];
        let step = self.step(pattern.step_index);
        let start_depth = self.depth.wrapping_sub(u32::from(step.depth)) as u16;
        let mut index = self.states.len();
        while index > 0 {
            let prev = &self.states[index - 1];
            if prev.start_depth < start_depth {
                break;
            }
            if prev.start_depth == start_depth {
                if prev.pattern_index == pattern.pattern_index
                    && prev.step_index == pattern.step_index
                {
                    return;
                }
                if prev.pattern_index <= pattern.pattern_index {
                    break;
                }
            }
            index -= 1;
        }
        self.states.insert(
            index,
            State {
                id: u32::MAX,
                capture_list_id: LIST_NONE,
                heap_insert_order: u32::MAX,
                start_depth,
                step_index: pattern.step_index,
                pattern_index: pattern.pattern_index,
                consumed_capture_count: 0,
                seeking_immediate_match: true,
                has_in_progress_alternatives: false,
                dead: false,
                needs_parent: step.depth == 1,
                skipped_quantifier: false,
            },
        );
    }

    /// `ts_query_cursor__prepare_to_capture`: makes sure `states[index]` (or
    /// `copy`, when given) has a capture list; false if none could be had.
    fn prepare_to_capture(&mut self, target: Target<'_>, preserve: usize) -> bool {
        let list = match target {
            Target::State(i) => self.states[i].capture_list_id,
            Target::Copy(ref s) => s.capture_list_id,
        };
        if list != LIST_NONE {
            return true;
        }
        let mut id = self.pool.acquire();
        if id == LIST_NONE {
            self.did_exceed_match_limit = true;
            match self.first_in_progress_capture(false) {
                Some((other, ..)) if other != preserve => {
                    id = self.states[other].capture_list_id;
                    self.states[other].capture_list_id = LIST_NONE;
                    self.states[other].dead = true;
                    if !self.pool.holds(id) {
                        // The victim held no list: nothing to reuse.
                        return false;
                    }
                    self.pool.get_mut(id).clear();
                }
                _ => return false,
            }
        }
        match target {
            Target::State(i) => self.states[i].capture_list_id = id,
            Target::Copy(s) => s.capture_list_id = id,
        }
        true
    }

    /// `ts_query_cursor__capture`.
    /// Captures visible walk node `q`.
    fn capture(&mut self, state_index: usize, step_index: u16, q: u32, kind: u16) {
        if self.states[state_index].dead {
            return;
        }
        if !self.prepare_to_capture(Target::State(state_index), usize::MAX) {
            self.states[state_index].dead = true;
            return;
        }
        let step = *self.step(step_index);
        let list = self.states[state_index].capture_list_id;
        let captures = self.pool.get_mut(list);
        for &id in &step.capture_ids {
            if id == NONE {
                break;
            }
            let n = &self.tree.nodes[q as usize];
            captures.push(Capture {
                node: q,
                index: id,
                start: n.start,
                end: n.end,
                kind,
            });
        }
    }

    /// `ts_query_cursor__copy_state`: inserts a copy after `states[index]`.
    fn copy_state(&mut self, index: usize) -> bool {
        let state = self.states[index];
        let mut copy = state;
        copy.capture_list_id = LIST_NONE;
        if state.capture_list_id != LIST_NONE {
            let mut slot = copy;
            if !self.prepare_to_capture(Target::Copy(&mut slot), index) {
                return false;
            }
            copy = slot;
            // The victim of a steal may have been `states[index]` itself only
            // if it was not preserved; it was, so its list is intact.
            let (from, to) = (
                state.capture_list_id as usize,
                copy.capture_list_id as usize,
            );
            self.pool.copy_list(from, to);
        }
        self.states.insert(index + 1, copy);
        true
    }

    /// Whether a state in progress has its next step below the current depth.
    fn state_needs_deeper(&self) -> bool {
        self.states.iter().any(|state| {
            let next = self.step(state.step_index);
            next.depth != NONE && u32::from(state.start_depth) + u32::from(next.depth) > self.depth
        })
    }

    /// `ts_query_cursor__should_descend`.
    fn should_descend(&self, node_intersects_range: bool) -> bool {
        if node_intersects_range && self.depth < self.max_start_depth {
            return true;
        }
        if self.state_needs_deeper() {
            return true;
        }
        if self.depth >= self.max_start_depth {
            return false;
        }
        if !self.on_visible_node {
            let q = self.cursor.current();
            // Every hidden node the walk enters has children, so it is a
            // repetition exactly when its symbol is neither named nor visible.
            let symbol = self.tree.hidden_symbol(q);
            if self.is_repetition(symbol) {
                return self
                    .program
                    .repeat_symbols_with_rootless_patterns
                    .binary_search(&symbol)
                    .is_ok();
            }
            return true;
        }
        false
    }

    fn is_repetition(&self, symbol: u16) -> bool {
        !self.kinds.is_named(symbol) && !self.kinds.is_visible(symbol)
    }
}

impl<'q, 't> Exec<'q, 't> {
    /// `ts_query__pattern_map_search`.
    fn pattern_map_search(&self, needle: u16) -> Option<usize> {
        let first = &self.program.first_entry;
        if !first.is_empty() {
            return match first.get(usize::from(needle)) {
                Some(&i) if i != NO_ENTRY => Some(i as usize),
                _ => None,
            };
        }
        let map = &self.program.pattern_map;
        let symbol_at = |i: usize| self.program.steps[usize::from(map[i].step_index)].symbol;
        let mut base = self.program.wildcard_root_pattern_count;
        if base > map.len() {
            return None;
        }
        let mut size = map.len() - base;
        if size == 0 {
            return None;
        }
        while size > 1 {
            let half = size / 2;
            let mid = base + half;
            if needle > symbol_at(mid) {
                base = mid;
            }
            size -= half;
        }
        let mut symbol = symbol_at(base);
        if needle > symbol {
            base += 1;
            if base < map.len() {
                symbol = symbol_at(base);
            }
        }
        (needle == symbol && base < map.len()).then_some(base)
    }

    /// `ts_query__step_is_fallible`.
    fn step_is_fallible(&self, step_index: u16) -> bool {
        let steps = &self.program.steps;
        let step = &steps[usize::from(step_index)];
        let mut i = usize::from(step_index) + 1;
        let next = loop {
            let Some(next) = steps.get(i) else {
                return false;
            };
            i += 1;
            if !next.is_pass_through {
                break next;
            }
        };
        next.depth != NONE
            && (next.depth > step.depth || (next.depth == step.depth && next.is_immediate))
            && (!next.parent_pattern_guaranteed || step.symbol == 0)
    }

    /// `ts_query_cursor__advance`: walks until a pattern finishes (or, with
    /// `stop_on_definite_step`, a state reaches a guaranteed step).
    fn advance(&mut self, stop_on_definite_step: bool) -> bool {
        let mut did_match = false;
        loop {
            if self.halted {
                while let Some(state) = self.states.pop() {
                    self.pool.release(state.capture_list_id);
                }
            }
            if did_match || self.halted {
                return did_match;
            }
            if self.ascending {
                if self.on_visible_node {
                    // Leave the node: finish deferred states, drop failed ones.
                    let n = self.states.len();
                    let mut deleted = 0;
                    for i in 0..n {
                        let state = self.states[i];
                        let step = self.step(state.step_index);
                        if step.depth == NONE
                            && (u32::from(state.start_depth) > self.depth || self.depth == 0)
                        {
                            self.push_finished(state);
                            did_match = true;
                            deleted += 1;
                        } else if step.depth != NONE
                            && u32::from(state.start_depth) + u32::from(step.depth) > self.depth
                        {
                            self.pool.release(state.capture_list_id);
                            deleted += 1;
                        } else if deleted > 0 {
                            self.states[i - deleted] = state;
                        }
                    }
                    self.states.truncate(n - deleted);
                }
                match self.cursor.goto_next_sibling(&self.tree) {
                    Move::Visible => {
                        if !self.on_visible_node {
                            self.depth = self.depth.wrapping_add(1);
                            self.on_visible_node = true;
                        }
                        self.ascending = false;
                    }
                    Move::Hidden => {
                        if self.on_visible_node {
                            self.depth = self.depth.wrapping_sub(1);
                            self.on_visible_node = false;
                        }
                        self.ascending = false;
                    }
                    Move::None => {
                        if self.cursor.goto_parent(&self.tree) {
                            self.depth = self.depth.wrapping_sub(1);
                        } else {
                            self.halted = true;
                        }
                    }
                }
            } else {
                self.settled = false;
                let q = self.cursor.current();
                let parent = self.cursor.parent_node(&self.tree);
                let (parent_intersects, node_intersects, intersects_containing, within_containing) =
                    if self.default_ranges {
                        (true, true, true, true)
                    } else {
                        let parent_intersects = match parent {
                            None => true,
                            Some(p) => {
                                let (start, end) = self.node_bytes(p);
                                self.included_bounds.intersected_by(start, end)
                            }
                        };
                        let (start, end) = self.node_bytes(q);
                        (
                            parent_intersects,
                            parent_intersects && self.included_bounds.intersected_by(start, end),
                            self.containing_bounds.intersected_by(start, end),
                            self.containing_bounds.contains(start, end),
                        )
                    };
                if within_containing && self.on_visible_node {
                    self.enter_visible(
                        q,
                        parent,
                        parent_intersects,
                        node_intersects,
                        stop_on_definite_step,
                        &mut did_match,
                    );
                }
                if intersects_containing && self.should_descend(node_intersects) {
                    // A subtree without a node a pattern can start on is
                    // built only if a state in progress may need it:
                    // walking it with no states changes nothing. With
                    // states, it changes nothing only if the walk descends
                    // into every node of it: tree-sitter leaves a hidden
                    // node it does not descend into (outside the ranges,
                    // past the start depth) without marking the walk as on
                    // a visible node again, so the visible ancestors it
                    // climbs to until the next sibling step are left
                    // without finishing or failing states. That holds for
                    // certain only without ranges and start depth (with
                    // ranges, a subtree inside them may still hold a node
                    // outside: Ruby's heredoc bodies lie past their
                    // ancestors' ends).
                    // A subtree left unbuilt because it lies outside the
                    // ranges may hold nodes a pattern starts on: built
                    // whenever the walk descends into it.
                    match self.tree.laziness(q) {
                        None => {}
                        Some(Lazy::NoCandidate) => {
                            let descends_everywhere =
                                self.default_ranges && self.max_start_depth == u32::MAX;
                            if self.states.is_empty()
                                || (self.settled
                                    && descends_everywhere
                                    && !self.state_needs_deeper())
                            {
                                self.ascending = true;
                                continue;
                            }
                            self.tree.expand(q);
                        }
                        Some(Lazy::Outside) => self.tree.expand(q),
                    }
                    match self.cursor.goto_first_child(&self.tree) {
                        Move::Visible => {
                            self.depth = self.depth.wrapping_add(1);
                            self.on_visible_node = true;
                            continue;
                        }
                        Move::Hidden => {
                            self.on_visible_node = false;
                            continue;
                        }
                        Move::None => {}
                    }
                }
                self.ascending = true;
            }
        }
    }

    /// The "enter a visible node" part of `ts_query_cursor__advance`: start
    /// states, advance states, split them, dedup and finish.
    #[allow(clippy::too_many_arguments)]
    fn enter_visible(
        &mut self,
        q: u32,
        parent: Option<u32>,
        parent_intersects: bool,
        node_intersects: bool,
        stop_on_definite_step: bool,
        did_match: &mut bool,
    ) {
        let node = self.tree.visible(q);
        let summary = self.tree.nodes[q as usize].summary;
        let symbol = summary.kind_id;
        let node_is_error = symbol == cst_bytecode::ERROR_KIND;
        let starts = self.pattern_map_search(symbol);
        if starts.is_none() && (self.program.wildcard_root_pattern_count == 0 || node_is_error) {
            // With no state in progress and no pattern to start here,
            // entering the node changes nothing: skip reading its status.
            if self.states.is_empty() {
                self.settled = true;
                return;
            }
            // No state's next step is at this depth either: the loop
            // below would only reset every state's flags before the
            // longest-match pass, and the node's status is not read.
            if !self.state_at_depth() {
                if self.pass_as_before() {
                    return;
                }
                for state in &mut self.states {
                    state.has_in_progress_alternatives = false;
                }
                self.longest_match(did_match);
                self.keep_settled_states(0);
                return;
            }
        }
        let is_named = summary.is_named();
        let is_missing = summary.is_missing();
        let facts = if self.cursor.stack.len() > 1 {
            let kinds = self.kinds;
            let is_supertype = |s| kinds.is_supertype(s);
            let (later, later_named, parent_kind) = self.tree.siblings(q);
            let field = summary.field_id;
            if self.tree.visible_only() && self.program.supertype_steps {
                // Without hidden walk nodes, the wrappers (innermost
                // first) hold the hidden chain's supertypes (see `new`).
                let chain = node.wrappers().rev();
                node.query_facts_from(field, later, later_named, parent_kind, chain, &is_supertype)
            } else {
                let chain = self.cursor.hidden_chain(&self.tree);
                node.query_facts_from(field, later, later_named, parent_kind, chain, &is_supertype)
            }
        } else {
            cst_bytecode::NodeFacts::default()
        };
        let field_id = facts.field_id;
        let supertypes = facts.supertypes();
        // tree-sitter reads the parent's kind from `ts_tree_cursor_parent_node`,
        // which can differ from the visible parent's (the stored facts say
        // where); the node the walk started on is read as it is.
        let parent_is_error = match parent {
            None => false,
            Some(0) => self.tree.nodes[0].summary.kind_id == cst_bytecode::ERROR_KIND,
            Some(_) => facts.parent_kind == Some(cst_bytecode::ERROR_KIND),
        };

        // A rooted pattern starts on a node in the range; one with several
        // top-level nodes on a node whose parent is, unless that is an ERROR.
        let in_range = |rooted: bool| {
            if rooted {
                node_intersects
            } else {
                parent_intersects && !parent_is_error
            }
        };

        // Start states for wildcard-root patterns, then for this symbol.
        if !node_is_error {
            let count = self
                .program
                .wildcard_root_pattern_count
                .min(self.program.pattern_map.len());
            for i in 0..count {
                let pattern = self.program.pattern_map[i];
                let step = self.step(pattern.step_index);
                let start_depth = self.depth.wrapping_sub(u32::from(step.depth));
                let in_range = in_range(pattern.is_rooted);
                if in_range
                    && (step.field == 0 || field_id == step.field)
                    && (step.supertype_symbol == 0 || !supertypes.is_empty())
                    && start_depth <= self.max_start_depth
                {
                    self.add_state(i);
                }
            }
        }
        if let Some(mut i) = starts {
            // tree-sitter computes the start depth once, from the first
            // pattern for this symbol, and checks every pattern with it.
            let first = self.step(self.program.pattern_map[i].step_index);
            let start_depth = self.depth.wrapping_sub(u32::from(first.depth));
            loop {
                let pattern = self.program.pattern_map[i];
                let step = self.step(pattern.step_index);
                let in_range = in_range(pattern.is_rooted);
                if in_range
                    && (step.field == 0 || field_id == step.field)
                    && start_depth <= self.max_start_depth
                {
                    self.add_state(i);
                }
                i += 1;
                if i == self.program.pattern_map.len() {
                    break;
                }
                let next = self.program.pattern_map[i];
                if self.step(next.step_index).symbol != symbol {
                    break;
                }
            }
        }

        // Advance every in-progress state with this node.
        let mut j = 0usize;
        while j < self.states.len() {
            let mut copy_count = 0usize;
            let state_step = self.states[j].step_index;
            let step = *self.step(state_step);
            self.states[j].has_in_progress_alternatives = false;
            let state = self.states[j];
            if u32::from(state.start_depth) + u32::from(step.depth) != self.depth {
                j += 1;
                continue;
            }
            let mut node_does_match = if step.symbol == 0 {
                if step.is_missing {
                    is_missing
                } else {
                    !node_is_error && (is_named || !step.is_named)
                }
            } else {
                symbol == step.symbol && (!step.is_missing || is_missing)
            };
            let mut later_sibling_can_match = facts.has_later_siblings;
            if (step.is_immediate && is_named && !state.skipped_quantifier)
                || state.seeking_immediate_match
            {
                later_sibling_can_match = false;
            }
            if step.is_last_child && facts.has_later_named_siblings {
                node_does_match = false;
            }
            if step.supertype_symbol != 0 && !supertypes.contains(&step.supertype_symbol) {
                node_does_match = false;
            }
            if step.field != 0 {
                if step.field == field_id {
                    if !facts.can_have_later_siblings_with_this_field {
                        later_sibling_can_match = false;
                    }
                } else {
                    node_does_match = false;
                }
            }
            if step.negated_field_list_id != 0 {
                let fields =
                    &self.program.negated_fields[usize::from(step.negated_field_list_id)..];
                for &f in fields {
                    if f == 0 {
                        break;
                    }
                    if node.children().any(|c| c.field_id() == f) {
                        node_does_match = false;
                        break;
                    }
                }
            }
            if !node_does_match {
                if !later_sibling_can_match {
                    self.pool.release(state.capture_list_id);
                    self.states.remove(j);
                } else {
                    j += 1;
                }
                continue;
            }

            if later_sibling_can_match
                && (step.contains_captures || self.step_is_fallible(state_step))
                && self.copy_state(j)
            {
                copy_count += 1;
            }

            if self.states[j].needs_parent {
                match parent {
                    None => self.states[j].dead = true,
                    Some(p) => {
                        self.states[j].needs_parent = false;
                        let mut k = usize::from(state_step);
                        loop {
                            if k == 0 {
                                break;
                            }
                            k -= 1;
                            let s = &self.program.steps[k];
                            if !(s.is_dead_end || s.is_pass_through || s.depth > 0) {
                                break;
                            }
                        }
                        if self.program.steps[k].capture_ids[0] != NONE {
                            // The parent as `ts_tree_cursor_parent_node`
                            // reads it from this child.
                            let kind = facts
                                .parent_kind
                                .unwrap_or(self.tree.nodes[p as usize].summary.kind_id);
                            self.capture(j, k as u16, p, kind);
                        }
                    }
                }
            }
            if step.capture_ids[0] != NONE {
                self.capture(j, state_step, q, symbol);
            }
            if self.states[j].dead {
                self.states.remove(j);
                // tree-sitter steps back one and then over the copies.
                j += copy_count;
                continue;
            }

            // Advance to the next step.
            self.states[j].step_index += 1;
            let next_step = *self.step(self.states[j].step_index);
            self.states[j].seeking_immediate_match =
                step.symbol == 0 && !step.is_named && next_step.is_immediate;
            self.states[j].skipped_quantifier = false;
            if stop_on_definite_step && next_step.root_pattern_guaranteed {
                *did_match = true;
            }

            // Split states at alternatives, iteratively.
            let mut end_index = j + 1;
            let mut k = j;
            while k < end_index {
                let child_step_index = self.states[k].step_index;
                let child_step = *self.step(child_step_index);
                if child_step.alternative_index != NONE {
                    if child_step.is_dead_end {
                        self.states[k].step_index = child_step.alternative_index;
                        continue;
                    }
                    let mut redo = false;
                    if child_step.is_pass_through {
                        self.states[k].step_index += 1;
                        redo = true;
                    }
                    if !(child_step.alternative_is_skip
                        && child_step.is_last_child
                        && facts.has_later_named_siblings)
                        && self.copy_state(k)
                    {
                        // The step before the state's current one (past a
                        // pass-through, that is the pass-through itself).
                        let prev_depth = usize::from(self.states[k].step_index)
                            .checked_sub(1)
                            .map(|p| self.program.steps[p].depth);
                        let copy = &mut self.states[k + 1];
                        end_index += 1;
                        copy_count += 1;
                        copy.step_index = child_step.alternative_index;
                        if child_step.is_pass_through {
                            copy.seeking_immediate_match = true;
                        }
                        if child_step.alternative_is_skip {
                            if !child_step.is_immediate {
                                let target =
                                    &self.program.steps[usize::from(child_step.alternative_index)];
                                copy.skipped_quantifier = target.depth == child_step.depth;
                            } else if prev_depth.is_some_and(|d| d < child_step.depth) {
                                copy.seeking_immediate_match = true;
                            }
                        }
                    }
                    if redo {
                        continue;
                    }
                }
                k += 1;
            }
            j += 1 + copy_count;
        }
        if self.states.len() >= SNAPSHOT_STATES && self.pass_as_before() {
            return;
        }
        self.longest_match(did_match);
        self.keep_settled_states(SNAPSHOT_STATES);
    }

    /// When the states, their flags aside, are those a pass that changed
    /// nothing left, with no capture list changed since: gives them that
    /// pass's flags and settles, as running it again would (see
    /// [`Exec::settled_states`]).
    fn pass_as_before(&mut self) -> bool {
        let same = self.settled_valid
            && self.settled_generation == self.pool.generation
            && self.settled_states.len() == self.states.len()
            && self.settled_states.iter().zip(&self.states).all(|(a, b)| {
                *b == State {
                    has_in_progress_alternatives: b.has_in_progress_alternatives,
                    ..*a
                }
            });
        if same {
            for (state, before) in self.states.iter_mut().zip(&self.settled_states) {
                state.has_in_progress_alternatives = before.has_in_progress_alternatives;
            }
            self.settled = true;
        }
        same
    }

    /// After a longest-match pass: keeps the states if it changed nothing
    /// and they are at least `min`.
    fn keep_settled_states(&mut self, min: usize) {
        self.settled_valid = self.settled && self.states.len() >= min;
        if self.settled_valid {
            self.settled_states.clear();
            self.settled_states.extend_from_slice(&self.states);
            self.settled_generation = self.pool.generation;
        }
    }

    /// Whether a state in progress has its next step at the current depth
    /// (only those can take the node entered).
    fn state_at_depth(&self) -> bool {
        self.states.iter().any(|state| {
            let next = self.step(state.step_index);
            u32::from(state.start_depth) + u32::from(next.depth) == self.depth
        })
    }

    /// The end of entering a visible node: the states sorted by capture,
    /// those whose captures another contains dropped, the complete ones
    /// finished; sets [`Exec::settled`].
    fn longest_match(&mut self, did_match: &mut bool) {
        self.sort_states_by_capture();

        // Longest match: drop states whose captures a sibling state contains.
        // `settled`: this pass changes nothing (see `Exec::settled`).
        let count = self.states.len();
        let mut finished = false;
        let mut j = 0usize;
        while j < self.states.len() {
            if self.states[j].dead {
                self.states.remove(j);
                continue;
            }
            let mut did_remove = false;
            let mut k = j + 1;
            while k < self.states.len() {
                let (state, other) = (self.states[j], self.states[k]);
                if other.start_depth != state.start_depth
                    || other.pattern_index != state.pattern_index
                {
                    break;
                }
                let (sc, oc) = (
                    self.pool.get(state.capture_list_id),
                    self.pool.get(other.capture_list_id),
                );
                if let (Some(last), Some(first)) = (sc.last(), oc.first())
                    && first.start >= last.end
                {
                    break;
                }
                let (left_contains_right, right_contains_left) =
                    self.compare_captures(&state, &other);
                if left_contains_right {
                    if state.step_index == other.step_index
                        && (other.seeking_immediate_match || !state.seeking_immediate_match)
                    {
                        self.pool.release(other.capture_list_id);
                        self.states.remove(k);
                        continue;
                    }
                    self.states[k].has_in_progress_alternatives = true;
                }
                if right_contains_left {
                    if state.step_index == other.step_index
                        && (state.seeking_immediate_match || !other.seeking_immediate_match)
                    {
                        self.pool.release(state.capture_list_id);
                        self.states.remove(j);
                        did_remove = true;
                        break;
                    }
                    self.states[j].has_in_progress_alternatives = true;
                }
                k += 1;
            }
            if did_remove {
                continue;
            }
            let state = self.states[j];
            if self.step(state.step_index).depth == NONE && !state.has_in_progress_alternatives {
                self.push_finished(state);
                self.states.remove(j);
                *did_match = true;
                finished = true;
                continue;
            }
            j += 1;
        }
        self.settled = !finished && self.states.len() == count;
    }

    /// `ts_query_cursor_next_match`.
    pub fn next_match(&mut self) -> Option<RawMatch> {
        if let Some(redo) = self.redo.as_deref_mut() {
            redo.record(Call::NextMatch(1));
        }
        if self.finished.is_empty() && !self.advance(false) {
            return None;
        }
        if self.heap_size > 0 {
            self.heapify();
        }
        let mut index = 0;
        if self.heap_size > 0 {
            for i in 1..self.finished.len() {
                if self.finished[i].heap_insert_order < self.finished[index].heap_insert_order {
                    index = i;
                }
            }
        }
        let state = self.finished.get_mut(index)?;
        if state.id == u32::MAX {
            state.id = self.next_state_id;
            self.next_state_id = self.next_state_id.wrapping_add(1);
        }
        let state = *state;
        self.returned.clear();
        self.returned
            .extend_from_slice(self.pool.get(state.capture_list_id));
        self.pool.release(state.capture_list_id);
        if self.heap_size > 0 {
            self.heap_erase(index);
            self.heap_size = self.finished.len();
        } else {
            self.finished.remove(index);
        }
        Some(RawMatch {
            id: state.id,
            pattern_index: state.pattern_index,
        })
    }

    /// The captures of the match returned last, in the order they were
    /// made.
    pub fn captures(&self) -> &[Capture] {
        &self.returned
    }

    /// `ts_query_cursor_remove_match`.
    pub fn remove_match(&mut self, id: u32) {
        if let Some(redo) = self.redo.as_deref_mut() {
            redo.record(Call::Remove(id));
        }
        if self.heap_size > 0 {
            self.heapify();
        }
        if let Some(i) = self.finished.iter().position(|s| s.id == id) {
            self.pool.release(self.finished[i].capture_list_id);
            if self.heap_size > 0 {
                self.heap_erase(i);
                self.heap_size = self.finished.len();
            } else {
                self.finished.remove(i);
            }
            return;
        }
        if let Some(i) = self.states.iter().position(|s| s.id == id) {
            self.pool.release(self.states[i].capture_list_id);
            self.states.remove(i);
        }
    }

    /// `ts_query_cursor_next_capture`: a match and the index of its capture
    /// to return next.
    pub fn next_capture(&mut self) -> Option<(RawMatch, usize)> {
        if let Some(redo) = self.redo.as_deref_mut() {
            redo.record(Call::NextCapture(1));
        }
        loop {
            self.heapify();
            let unfinished = self.first_in_progress_capture(true);
            let (u_byte, u_pattern) = unfinished.map_or((u32::MAX, u32::MAX), |u| (u.1, u.2));
            let mut first_finished = false;
            while let Some(state) = self.finished.first().copied() {
                let captures = self.pool.get(state.capture_list_id);
                let Some(c) = captures
                    .get(usize::from(state.consumed_capture_count))
                    .copied()
                else {
                    self.pool.release(state.capture_list_id);
                    self.heap_pop();
                    self.heap_size = self.finished.len();
                    continue;
                };
                let precedes =
                    c.end <= self.included.start_byte || self.before_included_start_point(c.end);
                let follows =
                    c.start >= self.included.end_byte || self.after_included_end_point(c.start);
                if precedes || follows {
                    let s = &mut self.finished[0];
                    s.consumed_capture_count = (s.consumed_capture_count + 1) & CONSUMED_MASK;
                    self.sift_down(0);
                    continue;
                }
                first_finished = c.start < u_byte
                    || (c.start == u_byte && u32::from(state.pattern_index) < u_pattern);
                break;
            }
            let target = if first_finished {
                Some(Where::Finished)
            } else if let Some((i, _, _, true)) = unfinished {
                Some(Where::InProgress(i))
            } else {
                None
            };
            if let Some(w) = target {
                let next_id = self.next_state_id;
                let state = match w {
                    Where::Finished => &mut self.finished[0],
                    Where::InProgress(i) => &mut self.states[i],
                };
                if state.id == u32::MAX {
                    state.id = next_id;
                    self.next_state_id = self.next_state_id.wrapping_add(1);
                }
                let index = usize::from(state.consumed_capture_count);
                state.consumed_capture_count = (state.consumed_capture_count + 1) & CONSUMED_MASK;
                let state = *state;
                self.returned.clear();
                self.returned
                    .extend_from_slice(self.pool.get(state.capture_list_id));
                if matches!(w, Where::Finished) {
                    self.sift_down(0);
                }
                return Some((
                    RawMatch {
                        id: state.id,
                        pattern_index: state.pattern_index,
                    },
                    index,
                ));
            }
            if self.pool.is_empty()
                && let Some((i, ..)) = unfinished
            {
                self.pool.release(self.states[i].capture_list_id);
                self.states.remove(i);
            }
            if !self.advance(true) && self.finished.is_empty() {
                return None;
            }
        }
    }
}

enum Where {
    Finished,
    InProgress(usize),
}

enum Target<'a> {
    State(usize),
    Copy(&'a mut State),
}
