//! `to_sexp`, rendered exactly as tree-sitter's `ts_node_string`
//! (`lib/src/subtree.c`, `ts_subtree__write_to_string` with `include_all = false`).
//!
//! Rules, as tree-sitter applies them to the visible nodes a cursor sees:
//! - a node is printed when it is named or MISSING (alias-aware: the stored
//!   kind id and named flag are the alias's);
//! - it is prefixed by `field: ` when it has a field; a node without a field of
//!   its own inherits the field of its parent when that parent is not printed
//!   (an anonymous node), unless the node is an extra;
//! - an ERROR leaf of non-zero size prints `(UNEXPECTED c)` with the stored
//!   lookahead character (unless it has hidden children: then `(ERROR)`,
//!   stored as `NOT_UNEXPECTED`); a MISSING node `(MISSING name)` or
//!   `(MISSING "tok")`;
//! - a subtree that holds a MISSING token the cursor cannot see (a hidden
//!   token) is printed from the rendering stored at encode time;
//! - the root is printed even when anonymous: `(name` (no closing parenthesis,
//!   as in C) with children, `(name)` or `("name")` without.

use std::fmt::Write;

use crate::view::Node;

fn printed(n: &Node<'_>) -> bool {
    n.is_missing() || n.is_named()
}

fn write_char(out: &mut String, c: i32) {
    match c {
        -1 => out.push_str("INVALID"),
        0 => out.push_str("'\\0'"),
        10 => out.push_str("'\\n'"),
        9 => out.push_str("'\\t'"),
        13 => out.push_str("'\\r'"),
        // isprint() in the C locale: 0x20..=0x7e.
        0x20..=0x7e => {
            out.push('\'');
            out.push(c as u8 as char);
            out.push('\'');
        }
        _ => {
            let _ = write!(out, "{c}");
        }
    }
}

fn write_head(out: &mut String, n: &Node<'_>) {
    if n.is_error()
        && n.child_count() == 0
        && n.end_byte() > n.start_byte()
        && n.error_char() != Some(crate::format::NOT_UNEXPECTED)
    {
        out.push_str("(UNEXPECTED ");
        write_char(out, n.error_char().unwrap_or(-1));
    } else if n.is_missing() {
        out.push_str("(MISSING ");
        if n.is_named() {
            out.push_str(n.kind());
        } else {
            out.push('"');
            out.push_str(n.kind());
            out.push('"');
        }
    } else {
        out.push('(');
        out.push_str(n.kind());
    }
}

impl Node<'_> {
    /// The S-expression of this subtree, exactly as `tree_sitter::Node::to_sexp`.
    pub fn to_sexp(&self) -> String {
        render(*self, &|id| self.tree.sexp_override(id).map(str::to_owned))
    }

    fn error_char(&self) -> Option<i32> {
        self.tree.error_char(self.id)
    }
}

/// Renders with overrides looked up by node id.
pub(crate) fn render(root: Node<'_>, overrides: &dyn Fn(u32) -> Option<String>) -> String {
    if let Some(text) = overrides(root.id() as u32) {
        return text;
    }
    let mut out = String::new();
    let root_printed = printed(&root);
    if root_printed {
        write_head(&mut out, &root);
    } else if root.child_count() > 0 {
        let _ = write!(out, "({}", root.kind());
    } else if root.is_named() {
        let _ = write!(out, "({})", root.kind());
    } else {
        let _ = write!(out, "(\"{}\")", root.kind());
    }
    // Stack of (node, field inherited from an unprinted parent, closing?).
    enum Step<'t> {
        Open(Node<'t>, Option<&'t str>),
        Close,
    }
    let root_field = if root_printed {
        None
    } else {
        root.field_name()
    };
    let mut stack: Vec<Step<'_>> = root.children().map(|c| Step::Open(c, root_field)).collect();
    stack.reverse();
    while let Some(step) = stack.pop() {
        match step {
            Step::Close => out.push(')'),
            Step::Open(n, inherited) => {
                let field = if n.is_extra() {
                    None
                } else {
                    n.field_name().or(inherited)
                };
                let is_printed = printed(&n);
                if is_printed {
                    out.push(' ');
                    if let Some(f) = field {
                        out.push_str(f);
                        out.push_str(": ");
                    }
                    if let Some(text) = overrides(n.id() as u32) {
                        out.push_str(&text);
                        continue;
                    }
                    write_head(&mut out, &n);
                    stack.push(Step::Close);
                }
                let child_field = if is_printed { None } else { field };
                let start = stack.len();
                for c in n.children() {
                    stack.push(Step::Open(c, child_field));
                }
                stack[start..].reverse();
            }
        }
    }
    if root_printed {
        out.push(')');
    }
    out
}
