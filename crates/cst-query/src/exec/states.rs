//! The execution's states: a state of a match in progress, the pool of
//! capture lists (`CaptureListPool`) and the heap of finished states, as
//! `lib/src/query.c` keeps them.

use super::{Capture, Exec, LIST_NONE};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct State {
    pub(super) id: u32,
    pub(super) capture_list_id: u32,
    pub(super) heap_insert_order: u32,
    pub(super) start_depth: u16,
    pub(super) step_index: u16,
    pub(super) pattern_index: u16,
    pub(super) consumed_capture_count: u16,
    pub(super) seeking_immediate_match: bool,
    pub(super) has_in_progress_alternatives: bool,
    pub(super) dead: bool,
    pub(super) needs_parent: bool,
    pub(super) skipped_quantifier: bool,
}

/// `CaptureListPool`.
pub(super) struct Pool {
    lists: Vec<Vec<Capture>>,
    in_use: Vec<bool>,
    /// The lists not in use, each once: `acquire` takes one in O(1) where
    /// tree-sitter scans for the first (which one it gets is not seen).
    unused: Vec<u32>,
    /// Releases minus acquisitions of released lists, as tree-sitter
    /// counts them (`free_capture_list_count`).
    free: u32,
    max: u32,
    /// Changes whenever a list's contents may change (a capture added, a
    /// list cleared or copied): see `Exec::settled_states`.
    pub(super) generation: u64,
    empty: Vec<Capture>,
}

impl Pool {
    /// A pool of at most `max` lists, or of `lists`, the lists of the
    /// cursor's earlier executions, all free, if they are more: as
    /// tree-sitter's cursor keeps its pool from one execution to the next
    /// (`capture_list_pool_reset`), so that a match limit lowered after an
    /// execution that made more lists limits nothing until they are in
    /// use.
    pub(super) fn new(max: u32, mut lists: Vec<Vec<Capture>>) -> Pool {
        for list in &mut lists {
            list.clear();
        }
        Pool {
            in_use: vec![false; lists.len()],
            unused: (0..lists.len() as u32).rev().collect(),
            free: lists.len() as u32,
            lists,
            max,
            generation: 0,
            empty: Vec::new(),
        }
    }

    /// Its lists, for the next execution's pool.
    pub(super) fn take_lists(&mut self) -> Vec<Vec<Capture>> {
        self.in_use.clear();
        self.unused.clear();
        self.free = 0;
        std::mem::take(&mut self.lists)
    }
    pub(super) fn get(&self, id: u32) -> &Vec<Capture> {
        if id as usize >= self.lists.len() || !self.in_use[id as usize] {
            // A released list reads as empty here; tree-sitter never reads one.
            return &self.empty;
        }
        &self.lists[id as usize]
    }
    pub(super) fn get_mut(&mut self, id: u32) -> &mut Vec<Capture> {
        self.generation = self.generation.wrapping_add(1);
        &mut self.lists[id as usize]
    }
    pub(super) fn is_empty(&self) -> bool {
        self.free == 0 && self.lists.len() as u64 >= u64::from(self.max)
    }
    pub(super) fn acquire(&mut self) -> u32 {
        if self.free > 0
            && let Some(i) = self.unused.pop()
        {
            let i = i as usize;
            self.lists[i].clear();
            self.in_use[i] = true;
            self.free -= 1;
            return i as u32;
        }
        let i = self.lists.len();
        if i as u64 >= u64::from(self.max) {
            return LIST_NONE;
        }
        self.lists.push(Vec::new());
        self.in_use.push(true);
        i as u32
    }
    /// Whether list `id` exists (in use or not).
    pub(super) fn holds(&self, id: u32) -> bool {
        (id as usize) < self.lists.len()
    }
    /// Appends the captures of list `from`, if in use, to list `to`.
    pub(super) fn copy_list(&mut self, from: usize, to: usize) {
        self.generation = self.generation.wrapping_add(1);
        if from != to && from < self.lists.len() && to < self.lists.len() && self.in_use[from] {
            let src = std::mem::take(&mut self.lists[from]);
            self.lists[to].extend_from_slice(&src);
            self.lists[from] = src;
        }
    }
    pub(super) fn release(&mut self, id: u32) {
        if id as usize >= self.lists.len() {
            return;
        }
        if std::mem::replace(&mut self.in_use[id as usize], false) {
            self.unused.push(id);
        }
        self.free += 1;
    }
}

/// The heap of finished states, ordered by their first unconsumed capture
/// (`ts_query_cursor__compare_captures` in `next_capture`), then pattern,
/// then insertion.
impl Exec<'_, '_> {
    pub(super) fn finished_precedes(&self, a: &State, b: &State) -> bool {
        let (ac, bc) = (
            self.pool.get(a.capture_list_id),
            self.pool.get(b.capture_list_id),
        );
        if usize::from(a.consumed_capture_count) >= ac.len() {
            return false;
        }
        if usize::from(b.consumed_capture_count) >= bc.len() {
            return true;
        }
        let ab = ac[usize::from(a.consumed_capture_count)].start;
        let bb = bc[usize::from(b.consumed_capture_count)].start;
        if ab != bb {
            return ab < bb;
        }
        if a.pattern_index != b.pattern_index {
            return a.pattern_index < b.pattern_index;
        }
        a.heap_insert_order < b.heap_insert_order
    }

    pub(super) fn sift_down(&mut self, mut index: usize) {
        let size = self.finished.len();
        loop {
            let mut smallest = index;
            let (left, right) = (2 * index + 1, 2 * index + 2);
            if left < size && self.finished_precedes(&self.finished[left], &self.finished[smallest])
            {
                smallest = left;
            }
            if right < size
                && self.finished_precedes(&self.finished[right], &self.finished[smallest])
            {
                smallest = right;
            }
            if smallest == index {
                break;
            }
            self.finished.swap(index, smallest);
            index = smallest;
        }
    }

    pub(super) fn sift_up(&mut self, mut index: usize) {
        while index > 0 {
            let parent = (index - 1) / 2;
            if self.finished_precedes(&self.finished[index], &self.finished[parent]) {
                self.finished.swap(index, parent);
                index = parent;
            } else {
                break;
            }
        }
    }

    pub(super) fn heap_pop(&mut self) {
        if self.finished.len() > 1 {
            let last = self.finished[self.finished.len() - 1];
            self.finished[0] = last;
        }
        self.finished.pop();
        if !self.finished.is_empty() {
            self.sift_down(0);
        }
    }

    pub(super) fn heap_erase(&mut self, index: usize) {
        if index + 1 == self.finished.len() {
            self.finished.pop();
            return;
        }
        let last = self.finished[self.finished.len() - 1];
        self.finished[index] = last;
        self.finished.pop();
        if index > 0
            && self.finished_precedes(&self.finished[index], &self.finished[(index - 1) / 2])
        {
            self.sift_up(index);
        } else {
            self.sift_down(index);
        }
    }

    pub(super) fn push_finished(&mut self, mut state: State) {
        state.heap_insert_order = self.next_finished_id;
        self.next_finished_id = self.next_finished_id.wrapping_add(1);
        self.finished.push(state);
    }

    pub(super) fn heapify(&mut self) {
        while self.heap_size < self.finished.len() {
            self.sift_up(self.heap_size);
            self.heap_size += 1;
        }
    }
}
