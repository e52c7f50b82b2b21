//! The compiled program of a tree-sitter query, read out of the C library's
//! `TSQuery` after `ts_query_new`.
//!
//! Why read it instead of compiling the query ourselves: what a query
//! compiles to depends on the grammar's parse tables. `ts_query__analyze_patterns`
//! walks them to reject impossible patterns (`Structure` errors) and to mark
//! steps whose match is guaranteed (`parent_pattern_guaranteed`, which decides
//! whether the cursor splits a state, and `root_pattern_guaranteed`, which
//! lets `captures()` return early), and collects the repetition symbols under
//! which rootless patterns can start. The public API exposes neither the parse
//! tables nor those results. So cst-query lets tree-sitter compile (errors are
//! then tree-sitter's by construction), copies the program out once, and runs
//! it over stored trees itself.
//!
//! The structs below mirror `lib/src/query.c` of the pinned tree-sitter
//! (`=0.26.13`, a tidy test checks the pin). [`extract`] validates what it
//! reads against the public API before trusting it and reports
//! [`crate::Error::Incompatible`] on any disagreement.
//!
//! One of the three files of the workspace allowed `unsafe` code (a tidy
//! test keeps the list): each item that needs it says so with its own
//! `#[allow(unsafe_code)]`, and each `unsafe` block says why it is sound.
#![deny(clippy::undocumented_unsafe_blocks)]

// `QueryStep`'s flags are C bitfields, read here as two bytes with the
// first-declared flag in the lowest bit: the layout GCC and Clang give them
// on little-endian targets (System V and the others they follow).
// Big-endian ABIs allocate bitfields from the most significant bit, and
// MSVC has rules of its own, never checked against this layout. `read`
// checks the order on every query (the flags of each pattern's end
// marker) and a unit test decodes known queries, but neither runs before
// the build: refuse those targets.
#[cfg(any(target_env = "msvc", target_endian = "big"))]
compile_error!(
    "cst-query reads tree-sitter's QueryStep bitfields in the GCC/Clang little-endian \
     layout; this target lays them out differently"
);

use std::os::raw::c_char;

use tree_sitter::ffi;

/// `Array(T)` (lib/src/array.h).
#[repr(C)]
struct RawArray<T> {
    contents: *mut T,
    size: u32,
    capacity: u32,
}

#[repr(C)]
struct RawSlice {
    offset: u32,
    length: u32,
}

#[repr(C)]
struct RawSymbolTable {
    characters: RawArray<c_char>,
    slices: RawArray<RawSlice>,
}

/// `QueryStep`: nine `uint16_t`, then eleven one-bit `bool` fields packed
/// into two bytes from the low bit up (GCC and Clang on little-endian
/// targets; see the `compile_error!` above and the end-marker check in
/// [`read`]).
#[repr(C)]
struct RawStep {
    symbol: u16,
    supertype_symbol: u16,
    field: u16,
    capture_ids: [u16; 3],
    depth: u16,
    alternative_index: u16,
    negated_field_list_id: u16,
    bits: [u8; 2],
}

#[repr(C)]
struct RawPatternEntry {
    step_index: u16,
    pattern_index: u16,
    is_rooted: bool,
}

#[repr(C)]
struct RawPattern {
    steps: RawSlice,
    predicate_steps: RawSlice,
    start_byte: u32,
    end_byte: u32,
    is_non_local: bool,
}

#[repr(C)]
struct RawQuery {
    captures: RawSymbolTable,
    predicate_values: RawSymbolTable,
    capture_quantifiers: RawArray<RawArray<u8>>,
    steps: RawArray<RawStep>,
    pattern_map: RawArray<RawPatternEntry>,
    predicate_steps: RawArray<ffi::TSQueryPredicateStep>,
    patterns: RawArray<RawPattern>,
    step_offsets: RawArray<[u32; 2]>,
    negated_fields: RawArray<u16>,
    string_buffer: RawArray<c_char>,
    repeat_symbols_with_rootless_patterns: RawArray<u16>,
    language: *const ffi::TSLanguage,
    wildcard_root_pattern_count: u16,
}

const _: () = assert!(size_of::<RawStep>() == 20);
const _: () = assert!(size_of::<RawPatternEntry>() == 6);
const _: () = assert!(size_of::<RawPattern>() == 28);

/// `TSSymbolMetadata` (lib/src/parser.h).
#[repr(C)]
#[derive(Clone, Copy)]
struct RawSymbolMetadata {
    visible: bool,
    named: bool,
    supertype: bool,
}

#[allow(unsafe_code)]
unsafe extern "C" {
    /// lib/src/language.c: the grammar's own flags of a symbol. The public
    /// `ts_language_symbol_type` folds them (a hidden named rule, such as a
    /// supertype, reads as "auxiliary"), but the query cursor's test for a
    /// repetition node reads the raw `named` flag.
    fn ts_language_symbol_metadata(
        language: *const ffi::TSLanguage,
        symbol: u16,
    ) -> RawSymbolMetadata;
}

/// (visible, named, supertype) of every symbol of `language`, as the
/// grammar declares them.
#[allow(unsafe_code)]
pub(crate) fn symbol_metadata(language: &tree_sitter::Language) -> Vec<(bool, bool, bool)> {
    let count = language.node_kind_count();
    let ptr = language.clone().into_raw();
    let out = (0..count)
        .map(|i| {
            // SAFETY: `ptr` is a live language and `i` one of its symbols.
            let m = unsafe { ts_language_symbol_metadata(ptr, i as u16) };
            (m.visible, m.named, m.supertype)
        })
        .collect();
    // SAFETY: gives back the copy `into_raw` released, so it is deleted once.
    drop(unsafe { tree_sitter::Language::from_raw(ptr) });
    out
}

/// `NONE` and `PATTERN_DONE_MARKER` of query.c.
pub(crate) const NONE: u16 = u16::MAX;

/// The bits of a pattern's end marker (`query_step__new(0,
/// PATTERN_DONE_MARKER, false)`, the last step of every pattern) after
/// `ts_query__analyze_patterns`, which marks it `root_pattern_guaranteed`
/// (the eighth flag) and `parent_pattern_guaranteed` (the ninth) and which
/// nothing else changes: bit 7 of the first byte and bit 0 of the second,
/// from the low bit up. Read in another bit order (from the high bit, as
/// big-endian ABIs allocate bitfields) they would be `0x01, 0x80`. So every
/// query checks the order `read` assumes.
const END_BITS: [u8; 2] = [0x80, 0x01];

/// A pattern's end marker as `read` decodes it.
const END_MARKER: Step = Step {
    symbol: 0,
    supertype_symbol: 0,
    field: 0,
    capture_ids: [NONE; 3],
    depth: NONE,
    alternative_index: NONE,
    negated_field_list_id: 0,
    is_named: false,
    is_immediate: false,
    is_last_child: false,
    is_pass_through: false,
    is_dead_end: false,
    is_inside_alternation: false,
    contains_captures: false,
    root_pattern_guaranteed: true,
    parent_pattern_guaranteed: true,
    is_missing: false,
    alternative_is_skip: false,
};

/// One step of a compiled pattern (`QueryStep`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Step {
    pub symbol: u16,
    pub supertype_symbol: u16,
    pub field: u16,
    pub capture_ids: [u16; 3],
    pub depth: u16,
    pub alternative_index: u16,
    pub negated_field_list_id: u16,
    pub is_named: bool,
    pub is_immediate: bool,
    pub is_last_child: bool,
    pub is_pass_through: bool,
    pub is_dead_end: bool,
    pub is_inside_alternation: bool,
    pub contains_captures: bool,
    pub root_pattern_guaranteed: bool,
    pub parent_pattern_guaranteed: bool,
    pub is_missing: bool,
    pub alternative_is_skip: bool,
}

/// An entry of the pattern map (`PatternEntry`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PatternEntry {
    pub step_index: u16,
    pub pattern_index: u16,
    pub is_rooted: bool,
}

/// The whole compiled program.
#[derive(Debug, Clone)]
pub(crate) struct Program {
    pub steps: Vec<Step>,
    /// Sorted by root symbol, wildcard roots first.
    pub pattern_map: Vec<PatternEntry>,
    pub wildcard_root_pattern_count: usize,
    /// Field-id lists separated by zeros; a step's `negated_field_list_id`
    /// is an offset into it.
    pub negated_fields: Vec<u16>,
    /// Sorted.
    pub repeat_symbols_with_rootless_patterns: Vec<u16>,
    /// Per pattern: whether it is non-local.
    pub non_local: Vec<bool>,
    /// (byte offset, step index) of each step start in the query source.
    pub step_offsets: Vec<(u32, u16)>,
    /// Per pattern, its predicates as tree-sitter lists them: each a
    /// sequence of (is capture, capture id or string) up to its `Done`.
    pub predicates: Vec<Vec<Vec<PredicateArg>>>,
    /// By symbol: the index of its first pattern-map entry past the
    /// wildcard-root ones, or [`NO_ENTRY`]; what `pattern_map_search`
    /// finds, in one read. Empty when the map is not sorted.
    pub first_entry: Vec<u32>,
    /// The root symbols of the pattern map's entries, sorted, deduplicated.
    pub start_symbols: Vec<u16>,
    /// The start symbols each of whose pattern-map entries needs nodes of
    /// some kinds to match ([`Program::entry_needs`]), with those kinds per
    /// entry, sorted by symbol.
    pub kind_needs: Vec<(u16, Vec<Vec<u16>>)>,
    /// Every kind `kind_needs` names, sorted, deduplicated.
    pub needed_kinds: Vec<u16>,
    /// Whether a step names a supertype (`(expression/identifier)`): the
    /// only steps whose match reads the hidden nodes above a visible one.
    pub supertype_steps: bool,
}

/// One step of a predicate (`TSQueryPredicateStep`, resolved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PredicateArg {
    Capture(u32),
    String(Box<str>),
}

/// Copies a raw array out. `None` if it claims more than `max` items or
/// holds a null pointer with a size.
///
/// # Safety
/// `a` must be an `Array` of the C library, whose `contents` (if not null)
/// points to `size` initialised items.
#[allow(unsafe_code)]
unsafe fn copy<T, U>(a: &RawArray<T>, max: usize, f: impl Fn(&T) -> U) -> Option<Vec<U>> {
    let n = a.size as usize;
    // A real array never holds more than it has room for: a cheap sign,
    // before `contents` is read, that the layout is not the one assumed.
    if n > max || a.size > a.capacity || (n > 0 && a.contents.is_null()) {
        return None;
    }
    if n == 0 {
        return Some(Vec::new());
    }
    // SAFETY: per the contract, `contents` points to `n` items.
    let items = unsafe { std::slice::from_raw_parts(a.contents, n) };
    Some(items.iter().map(f).collect())
}

/// Reads the compiled program of `query` and checks it against what the
/// public API says about the same query.
#[allow(unsafe_code)]
pub(crate) fn extract(
    language: &tree_sitter::Language,
    source: &str,
) -> Result<(tree_sitter::Query, Program), crate::Error> {
    // `new_raw` + `from_raw` is what `Query::new` does: the same errors.
    let ptr = tree_sitter::Query::new_raw(language, source)?;
    // SAFETY: `ptr` is a live query just compiled; the layout is the pinned
    // version's (module docs). Every read is bounded by the sizes it holds,
    // and everything read is validated below.
    let program = unsafe {
        let pattern_count = ffi::ts_query_pattern_count(ptr) as usize;
        let capture_count = ffi::ts_query_capture_count(ptr) as usize;
        let raw = &*(ptr as *const RawQuery);
        read(raw, pattern_count, capture_count).map(|mut p| {
            p.predicates = predicates(ptr, pattern_count);
            p
        })
    };
    // SAFETY: `ptr` came from `new_raw` for `source`; `from_raw` owns it from
    // here (and deletes it if the binding rejects a predicate).
    let query = unsafe { tree_sitter::Query::from_raw(ptr, source) }?;
    let program = program.map_err(crate::Error::Incompatible)?;
    let pattern_count = query.pattern_count();
    for p in 0..pattern_count {
        let rooted = program
            .pattern_map
            .iter()
            .filter(|e| usize::from(e.pattern_index) == p)
            .all(|e| e.is_rooted);
        if rooted != query.is_pattern_rooted(p)
            || program.non_local[p] != query.is_pattern_non_local(p)
        {
            return Err(crate::Error::Incompatible(
                "pattern flags differ from the public API",
            ));
        }
    }
    let offsets = &program.step_offsets;
    for (k, &(offset, step)) in offsets.iter().enumerate() {
        // The public call finds the last step starting at or before `offset`.
        if offsets.get(k + 1).is_some_and(|next| next.0 == offset) {
            continue;
        }
        let guaranteed = program.steps[usize::from(step)].root_pattern_guaranteed;
        if guaranteed != query.is_pattern_guaranteed_at_step(offset as usize) {
            return Err(crate::Error::Incompatible(
                "step guarantees differ from the public API",
            ));
        }
    }
    Ok((query, program))
}

/// # Safety
/// `raw` must be a `TSQuery` of the pinned tree-sitter.
#[allow(unsafe_code)]
unsafe fn read(
    raw: &RawQuery,
    pattern_count: usize,
    capture_count: usize,
) -> Result<Program, &'static str> {
    const MAX: usize = 1 << 24;
    let bad = "the query's layout is not tree-sitter 0.26.13's";
    // SAFETY: the array is a field of `raw`, a live `TSQuery` of the pinned
    // version (this function's contract), so it is an `Array` of the C
    // library as `copy` requires.
    let steps = unsafe {
        copy(&raw.steps, MAX, |s: &RawStep| {
            let bit = |byte: usize, k: u8| s.bits[byte] & (1 << k) != 0;
            Step {
                symbol: s.symbol,
                supertype_symbol: s.supertype_symbol,
                field: s.field,
                capture_ids: s.capture_ids,
                depth: s.depth,
                alternative_index: s.alternative_index,
                negated_field_list_id: s.negated_field_list_id,
                is_named: bit(0, 0),
                is_immediate: bit(0, 1),
                is_last_child: bit(0, 2),
                is_pass_through: bit(0, 3),
                is_dead_end: bit(0, 4),
                is_inside_alternation: bit(0, 5),
                contains_captures: bit(0, 6),
                root_pattern_guaranteed: bit(0, 7),
                parent_pattern_guaranteed: bit(1, 0),
                is_missing: bit(1, 1),
                alternative_is_skip: bit(1, 2),
            }
        })
    }
    .ok_or(bad)?;
    // SAFETY: an array of the live query, as above.
    let pattern_map = unsafe {
        copy(&raw.pattern_map, MAX, |e: &RawPatternEntry| PatternEntry {
            step_index: e.step_index,
            pattern_index: e.pattern_index,
            is_rooted: e.is_rooted,
        })
    }
    .ok_or(bad)?;
    // SAFETY: an array of the live query, as above.
    let patterns = unsafe {
        copy(&raw.patterns, MAX, |p: &RawPattern| {
            (
                p.steps.offset,
                p.steps.length,
                p.start_byte,
                p.end_byte,
                p.is_non_local,
            )
        })
    }
    .ok_or(bad)?;
    // SAFETY: an array of the live query, as above.
    let negated_fields = unsafe { copy(&raw.negated_fields, MAX, |f: &u16| *f) }.ok_or(bad)?;
    // SAFETY: an array of the live query, as above.
    let repeat = unsafe {
        copy(
            &raw.repeat_symbols_with_rootless_patterns,
            MAX,
            |s: &u16| *s,
        )
    }
    .ok_or(bad)?;
    // SAFETY: an array of the live query, as above.
    let step_offsets =
        unsafe { copy(&raw.step_offsets, MAX, |o: &[u32; 2]| (o[0], o[1] as u16)) }.ok_or(bad)?;
    // SAFETY: an array of the live query, as above.
    let slices = unsafe { copy(&raw.captures.slices, MAX, |s: &RawSlice| s.length) }.ok_or(bad)?;
    // SAFETY: an array of the live query, as above.
    let step_bits = unsafe { copy(&raw.steps, MAX, |s: &RawStep| s.bits) }.ok_or(bad)?;
    // Bits past the eleven known ones are zero in a real step.
    if step_bits.iter().any(|b| b[1] & 0xf8 != 0) {
        return Err(bad);
    }

    // Validate: counts, bounds and shape.
    let wildcard = usize::from(raw.wildcard_root_pattern_count);
    let n = steps.len();
    if patterns.len() != pattern_count
        || slices.len() != capture_count
        || wildcard > pattern_map.len()
    {
        return Err(bad);
    }
    for s in &steps {
        let alt_ok = s.alternative_index == NONE || usize::from(s.alternative_index) <= n;
        let caps_ok = s
            .capture_ids
            .iter()
            .all(|&c| c == NONE || usize::from(c) < capture_count);
        let neg_ok = usize::from(s.negated_field_list_id) < negated_fields.len().max(1);
        if !alt_ok || !caps_ok || !neg_ok {
            return Err(bad);
        }
    }
    for &(offset, length, ..) in &patterns {
        let end = offset as usize + length as usize;
        if length == 0 || end > n {
            return Err(bad);
        }
        // Its end marker, with its flags in the bits `END_BITS` says: the
        // bit order is the one assumed.
        if steps[end - 1] != END_MARKER || step_bits[end - 1] != END_BITS {
            return Err(bad);
        }
    }
    for e in &pattern_map {
        if usize::from(e.step_index) >= n || usize::from(e.pattern_index) >= pattern_count {
            return Err(bad);
        }
    }
    if negated_fields.first() != Some(&0) || step_offsets.iter().any(|o| usize::from(o.1) > n) {
        return Err(bad);
    }
    if !repeat.is_sorted() {
        return Err(bad);
    }
    let supertype_steps = steps.iter().any(|s| s.supertype_symbol != 0);
    let mut program = Program {
        steps,
        pattern_map,
        wildcard_root_pattern_count: wildcard,
        negated_fields,
        repeat_symbols_with_rootless_patterns: repeat,
        non_local: patterns.iter().map(|p| p.4).collect(),
        step_offsets,
        predicates: Vec::new(),
        first_entry: Vec::new(),
        start_symbols: Vec::new(),
        kind_needs: Vec::new(),
        needed_kinds: Vec::new(),
        supertype_steps,
    };
    program.index_pattern_map();
    Ok(program)
}

impl Program {
    /// Fills `first_entry` from the pattern map (again after it changes).
    pub(crate) fn index_pattern_map(&mut self) {
        self.first_entry.clear();
        let mut starts: Vec<u16> = self
            .pattern_map
            .iter()
            .map(|e| {
                self.steps
                    .get(usize::from(e.step_index))
                    .map_or(0, |s| s.symbol)
            })
            .collect();
        starts.sort_unstable();
        starts.dedup();
        self.start_symbols = starts;
        self.kind_needs = self.kind_needs();
        let mut kinds: Vec<u16> = self
            .kind_needs
            .iter()
            .flat_map(|x| x.1.iter().flatten().copied())
            .collect();
        kinds.sort_unstable();
        kinds.dedup();
        self.needed_kinds = kinds;
        let map = &self.pattern_map;
        let symbol_at = |i: usize| {
            self.steps
                .get(usize::from(map[i].step_index))
                .map_or(0, |s| s.symbol)
        };
        let from = self.wildcard_root_pattern_count;
        // The binary search finds the first entry of a symbol only in a
        // sorted map (tree-sitter keeps it sorted): otherwise no table.
        if from >= map.len() || (from + 1..map.len()).any(|i| symbol_at(i - 1) > symbol_at(i)) {
            return;
        }
        let top = usize::from(symbol_at(map.len() - 1)) + 1;
        let mut first = vec![NO_ENTRY; top];
        for i in (from..map.len()).rev() {
            first[usize::from(symbol_at(i))] = i as u32;
        }
        self.first_entry = first;
    }
}

impl Program {
    /// The kinds of node a state started on pattern-map entry `e` must
    /// match to finish, besides the entry's own: the symbols (not
    /// wildcards) of the steps from the entry's on that every way through
    /// the pattern takes. Such a step has no alternative, is neither a
    /// pass-through nor a dead end, lies in no alternation, and no step of
    /// its pattern before it (the entry's or earlier) has an alternative
    /// past it. A step matches only a visible node whose kind id is its
    /// symbol (`enter_visible`), so in a tree without a node of one of
    /// these kinds the entry's states all fail.
    fn entry_needs(&self, e: &PatternEntry) -> Vec<u16> {
        let from = usize::from(e.step_index);
        // The pattern's first step: after the previous end marker.
        let first = self.steps[..from.min(self.steps.len())]
            .iter()
            .rposition(|s| s.depth == NONE)
            .map_or(0, |i| i + 1);
        let mut needs = Vec::new();
        // The furthest step an alternative before the one looked at
        // jumps to.
        let mut jumps_to = 0usize;
        for (i, step) in self.steps.iter().enumerate().skip(first) {
            if step.depth == NONE {
                break;
            }
            let plain = step.alternative_index == NONE
                && !step.is_pass_through
                && !step.is_dead_end
                && !step.is_inside_alternation;
            if i >= from && plain && jumps_to <= i && step.symbol != 0 {
                needs.push(step.symbol);
            }
            if step.alternative_index != NONE {
                jumps_to = jumps_to.max(usize::from(step.alternative_index));
            }
        }
        // The entry's own kind is there wherever the entry can start.
        let own = self.steps.get(from).map_or(0, |s| s.symbol);
        needs.retain(|&k| k != own);
        needs.sort_unstable();
        needs.dedup();
        needs
    }

    /// [`Program::kind_needs`]: the start symbols all of whose entries
    /// need some kinds, with each entry's.
    fn kind_needs(&self) -> Vec<(u16, Vec<Vec<u16>>)> {
        let mut by_symbol: Vec<(u16, Vec<u16>)> = self
            .pattern_map
            .iter()
            .skip(self.wildcard_root_pattern_count)
            .filter_map(|e| {
                let symbol = self.steps.get(usize::from(e.step_index))?.symbol;
                Some((symbol, self.entry_needs(e)))
            })
            .collect();
        by_symbol.sort_unstable();
        by_symbol
            .chunk_by(|a, b| a.0 == b.0)
            .filter(|group| group.iter().all(|x| !x.1.is_empty()))
            .map(|group| {
                let mut needs: Vec<Vec<u16>> = group.iter().map(|x| x.1.clone()).collect();
                needs.dedup();
                (group[0].0, needs)
            })
            .collect()
    }
}

/// `first_entry` of a symbol without an entry.
pub(crate) const NO_ENTRY: u32 = u32::MAX;

/// The predicates of every pattern, through the public C API.
///
/// # Safety
/// `ptr` must be a live query with `pattern_count` patterns.
#[allow(unsafe_code)]
unsafe fn predicates(ptr: *mut ffi::TSQuery, pattern_count: usize) -> Vec<Vec<Vec<PredicateArg>>> {
    let string = |id: u32| -> Box<str> {
        let mut len = 0u32;
        // SAFETY: `id` is a string id of this query, as its predicate steps give it.
        let bytes = unsafe {
            let p = ffi::ts_query_string_value_for_id(ptr, id, &mut len);
            if p.is_null() {
                return "".into();
            }
            std::slice::from_raw_parts(p.cast::<u8>(), len as usize)
        };
        String::from_utf8_lossy(bytes).into()
    };
    (0..pattern_count as u32)
        .map(|i| {
            let mut len = 0u32;
            // SAFETY: `i` is a pattern of this query.
            let steps = unsafe {
                let p = ffi::ts_query_predicates_for_pattern(ptr, i, &mut len);
                if p.is_null() || len == 0 {
                    &[][..]
                } else {
                    std::slice::from_raw_parts(p, len as usize)
                }
            };
            steps
                .split(|s| s.type_ == ffi::TSQueryPredicateStepTypeDone)
                .filter(|p| !p.is_empty())
                .map(|p| {
                    p.iter()
                        .map(|s| {
                            if s.type_ == ffi::TSQueryPredicateStepTypeCapture {
                                PredicateArg::Capture(s.value_id)
                            } else {
                                PredicateArg::String(string(s.value_id))
                            }
                        })
                        .collect()
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A step at `depth` for `symbol` with nothing else set.
    fn step(symbol: u16, depth: u16) -> Step {
        Step {
            symbol,
            depth,
            root_pattern_guaranteed: false,
            parent_pattern_guaranteed: false,
            ..END_MARKER
        }
    }

    /// The kinds a pattern needs are those of the steps every way through
    /// it takes: not an optional, repeated-or-absent or alternative one,
    /// nor a wildcard, nor its start kind; a start kind is listed only if
    /// each of its entries needs some.
    #[test]
    fn kind_needs_are_the_steps_every_match_takes() {
        let lang = cst_grammars::by_id("c").unwrap().language().unwrap();
        let named = |kind: &str| lang.id_for_node_kind(kind, true);
        let needs = |source: &str| extract(&lang, source).unwrap().1.kind_needs;
        let decl = named("declaration");
        let sorted = |mut v: Vec<u16>| {
            v.sort_unstable();
            v
        };
        assert_eq!(
            needs("(declaration type: (union_specifier name: (type_identifier) @name)) @d"),
            vec![(
                decl,
                vec![sorted(vec![
                    named("union_specifier"),
                    named("type_identifier")
                ])]
            )]
        );
        // After an optional and inside a repetition of one or more: needed.
        assert_eq!(
            needs("(declaration (storage_class_specifier)? (union_specifier)+) @d"),
            vec![(decl, vec![vec![named("union_specifier")]])]
        );
        // Two patterns: one list each.
        assert_eq!(
            needs("(declaration (union_specifier)) @a (declaration (enum_specifier)) @b"),
            vec![(decl, {
                let mut lists = vec![
                    vec![named("union_specifier")],
                    vec![named("enum_specifier")],
                ];
                lists.sort_unstable();
                lists
            })]
        );
        // An alternation, an optional or a zero-or-more step is not
        // needed: the kind is not listed; nor is it when one of its
        // patterns needs nothing.
        for source in [
            "(declaration [(union_specifier) (struct_specifier)]) @d",
            "(declaration (union_specifier)?) @d",
            "(declaration (union_specifier)*) @d",
            "(declaration (_)) @d",
            "(declaration) @d",
            "(declaration (union_specifier)) @a (declaration) @b",
        ] {
            assert_eq!(needs(source), vec![], "{source}");
        }
        // A sibling list: each entry needs what comes from it on.
        let siblings = needs("((comment) @c . (declaration (union_specifier)) @d)");
        assert!(
            siblings
                .iter()
                .all(|(_, lists)| lists.iter().all(|l| l.contains(&named("union_specifier")))),
            "{siblings:?}"
        );
    }

    /// Without the two flags the grammar analysis sets (which depend on the
    /// grammar's parse tables, not on the query's text); end markers keep them.
    fn textual(s: &Step) -> Step {
        if s.depth == NONE {
            return *s;
        }
        Step {
            root_pattern_guaranteed: false,
            parent_pattern_guaranteed: false,
            ..*s
        }
    }

    /// Decodes queries whose steps are known from their text and query.c,
    /// each flag set alone somewhere and beside others elsewhere, and
    /// compares every field with what the public API says of the symbols,
    /// fields and captures: a flag read from the wrong bit, or a field from
    /// the wrong offset, fails here.
    #[test]
    fn steps_decode_as_the_public_api_and_query_c_say() {
        let lang = cst_grammars::by_id("rust").unwrap().language().unwrap();
        let named = |kind: &str| lang.id_for_node_kind(kind, true);
        let field = |name: &str| lang.field_id_for_name(name).unwrap().get();
        let cap = |id: u16| [id, NONE, NONE];
        let wildcard = |depth| step(0, depth);
        let cases: Vec<(&str, Vec<Step>)> = vec![
            (
                "(function_item name: (identifier) @name body: (_) @body)",
                vec![
                    Step {
                        contains_captures: true,
                        ..step(named("function_item"), 0)
                    },
                    Step {
                        field: field("name"),
                        capture_ids: cap(0),
                        contains_captures: true,
                        ..step(named("identifier"), 1)
                    },
                    Step {
                        field: field("body"),
                        capture_ids: cap(1),
                        is_named: true,
                        contains_captures: true,
                        ..wildcard(1)
                    },
                    END_MARKER,
                ],
            ),
            (
                "(arguments . (identifier))",
                vec![
                    step(named("arguments"), 0),
                    Step {
                        is_immediate: true,
                        ..step(named("identifier"), 1)
                    },
                    END_MARKER,
                ],
            ),
            (
                "(arguments (identifier) .)",
                vec![
                    step(named("arguments"), 0),
                    Step {
                        is_last_child: true,
                        ..step(named("identifier"), 1)
                    },
                    END_MARKER,
                ],
            ),
            (
                "(arguments . (_) @only .)",
                vec![
                    Step {
                        contains_captures: true,
                        ..step(named("arguments"), 0)
                    },
                    Step {
                        capture_ids: cap(0),
                        is_named: true,
                        is_immediate: true,
                        is_last_child: true,
                        contains_captures: true,
                        ..wildcard(1)
                    },
                    END_MARKER,
                ],
            ),
            (
                "(arguments (identifier)* @any)",
                vec![
                    Step {
                        contains_captures: true,
                        ..step(named("arguments"), 0)
                    },
                    Step {
                        capture_ids: cap(0),
                        alternative_index: 3,
                        alternative_is_skip: true,
                        contains_captures: true,
                        ..step(named("identifier"), 1)
                    },
                    Step {
                        alternative_index: 1,
                        is_pass_through: true,
                        ..wildcard(1)
                    },
                    END_MARKER,
                ],
            ),
            (
                "(call_expression function: [(identifier) (field_expression)] @callee)",
                vec![
                    Step {
                        contains_captures: true,
                        ..step(named("call_expression"), 0)
                    },
                    Step {
                        field: field("function"),
                        capture_ids: cap(0),
                        alternative_index: 3,
                        contains_captures: true,
                        ..step(named("identifier"), 1)
                    },
                    Step {
                        alternative_index: 4,
                        is_dead_end: true,
                        ..wildcard(1)
                    },
                    Step {
                        field: field("function"),
                        capture_ids: cap(0),
                        contains_captures: true,
                        ..step(named("field_expression"), 1)
                    },
                    END_MARKER,
                ],
            ),
            (
                // A repetition inside an alternation: its loop step is
                // marked, and query.c appends a copy of the branch's first
                // step and a dead end after the end marker.
                "(arguments [(identifier)+ (integer_literal)])",
                vec![
                    step(named("arguments"), 0),
                    Step {
                        alternative_index: 4,
                        ..step(named("identifier"), 1)
                    },
                    Step {
                        alternative_index: 6,
                        is_pass_through: true,
                        is_inside_alternation: true,
                        ..wildcard(1)
                    },
                    Step {
                        alternative_index: 5,
                        is_dead_end: true,
                        ..wildcard(1)
                    },
                    step(named("integer_literal"), 1),
                    END_MARKER,
                    step(named("identifier"), 1),
                    Step {
                        alternative_index: 2,
                        is_dead_end: true,
                        ..wildcard(1)
                    },
                ],
            ),
            (
                "(MISSING identifier) @missing",
                vec![
                    Step {
                        capture_ids: cap(0),
                        is_missing: true,
                        contains_captures: true,
                        ..step(named("identifier"), 0)
                    },
                    END_MARKER,
                ],
            ),
            (
                "(let_declaration !type) \"fn\" @kw",
                vec![
                    Step {
                        negated_field_list_id: 1,
                        ..step(named("let_declaration"), 0)
                    },
                    END_MARKER,
                    Step {
                        capture_ids: cap(0),
                        contains_captures: true,
                        ..step(lang.id_for_node_kind("fn", false), 0)
                    },
                    END_MARKER,
                ],
            ),
        ];
        for (source, expected) in cases {
            let (query, program) = extract(&lang, source).unwrap();
            let captures: Vec<u16> = (0..query.capture_names().len() as u16).collect();
            for s in &program.steps {
                for c in s.capture_ids.iter().filter(|&&c| c != NONE) {
                    assert!(captures.contains(c), "{source}: capture {c}");
                }
            }
            let actual: Vec<Step> = program.steps.iter().map(textual).collect();
            assert_eq!(actual, expected, "{source}");
            if source.contains("!type") {
                assert_eq!(program.negated_fields, [0, field("type"), 0]);
            }
            // The one flag the public API reports, at every step offset.
            for &(offset, index) in &program.step_offsets {
                let at = program
                    .step_offsets
                    .iter()
                    .rfind(|o| o.0 <= offset)
                    .unwrap();
                if at.1 == index {
                    assert_eq!(
                        program.steps[usize::from(index)].root_pattern_guaranteed,
                        query.is_pattern_guaranteed_at_step(offset as usize),
                        "{source} at {offset}"
                    );
                }
            }
        }
    }

    /// `read` rejects a query whose end markers' flags are not where it
    /// expects them: in the other bit order, or with another flag set.
    #[test]
    #[allow(unsafe_code)]
    fn end_markers_in_another_bit_order_are_rejected() {
        let lang = cst_grammars::by_id("rust").unwrap().language().unwrap();
        let source = "(function_item name: (identifier) @name)";
        let ptr = tree_sitter::Query::new_raw(&lang, source).unwrap();
        // SAFETY: `ptr` is a live query just compiled.
        let (patterns, captures) = unsafe {
            (
                ffi::ts_query_pattern_count(ptr) as usize,
                ffi::ts_query_capture_count(ptr) as usize,
            )
        };
        // SAFETY: a live query of the pinned version (the module's layout);
        // only this test uses it until `from_raw` takes it back.
        let raw = unsafe { &*(ptr as *const RawQuery) };
        let end = raw.steps.size as usize - 1;
        let set_end_bits = |bits: [u8; 2]| {
            // SAFETY: `contents` holds `size` steps of the live query, and
            // no reference into them is held while this writes.
            unsafe { (*raw.steps.contents.add(end)).bits = bits };
        };
        // SAFETY: `raw` is a live query of the pinned version.
        let read_now = || unsafe { read(raw, patterns, captures) }.map(|_| ());
        assert_eq!(read_now(), Ok(()));
        for wrong in [[0x01, 0x80], [0x00, 0x01], [0x80, 0x00], [0x81, 0x01]] {
            set_end_bits(wrong);
            assert!(read_now().is_err(), "end marker bits {wrong:02x?} accepted");
        }
        set_end_bits(END_BITS);
        assert_eq!(read_now(), Ok(()));
        // SAFETY: `ptr` came from `new_raw` for `source`; `from_raw` owns
        // and deletes it.
        drop(unsafe { tree_sitter::Query::from_raw(ptr, source) });
    }
}
