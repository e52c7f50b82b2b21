//! The text of a repo map: per file its path, then the lines of its
//! chosen definitions and of the definitions enclosing them, `⋮` where
//! lines are left out, as aider prints its map.

use std::sync::Arc;

/// Lines of a shown source line are cut at this many characters.
pub const MAX_LINE_CHARS: usize = 100;

/// The token estimate of `text`: its characters / 4, rounded up (no
/// tokenizer: about what cl100k gives for code; budgets are approximate).
pub fn estimate_tokens(text: &str) -> usize {
    text.chars().count().div_ceil(4)
}

/// A source split into lines.
#[derive(Debug)]
pub(crate) struct Lines {
    source: Arc<[u8]>,
    /// Where each line starts.
    starts: Vec<usize>,
}

impl Lines {
    pub(crate) fn new(source: Arc<[u8]>) -> Lines {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', &source).map(|i| i + 1));
        if starts.last() == Some(&source.len()) && starts.len() > 1 {
            starts.pop();
        }
        Lines { source, starts }
    }

    /// How many lines.
    pub(crate) fn count(&self) -> usize {
        self.starts.len()
    }

    /// Line `row` (zero-based) without its line break, cut at
    /// [`MAX_LINE_CHARS`] characters.
    pub(crate) fn line(&self, row: usize) -> String {
        let Some(&start) = self.starts.get(row) else {
            return String::new();
        };
        let end = self
            .starts
            .get(row + 1)
            .map_or(self.source.len(), |&e| e.saturating_sub(1));
        let bytes = self.source.get(start..end.max(start)).unwrap_or_default();
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        let text = String::from_utf8_lossy(bytes);
        let text = text.trim_end();
        match text.char_indices().nth(MAX_LINE_CHARS) {
            Some((cut, _)) => text[..cut].to_string(),
            None => text.to_string(),
        }
    }
}

/// Appends one file to `out`: `path:`, then each of `rows` (sorted,
/// zero-based) as `│line`, with `⋮` for each run of lines left out.
/// Without `lines` (the source could not be read), `fallback` names are
/// shown instead.
pub(crate) fn file(
    out: &mut String,
    path: &str,
    rows: &[u32],
    lines: Option<&Lines>,
    fallback: &[&str],
) {
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(path);
    out.push_str(":\n");
    let Some(lines) = lines else {
        for name in fallback {
            out.push('│');
            out.push_str(name);
            out.push('\n');
        }
        return;
    };
    let mut prev: Option<u32> = None;
    for &row in rows {
        let gap = match prev {
            None => row > 0,
            Some(p) => row > p + 1,
        };
        if gap {
            out.push_str("⋮\n");
        }
        out.push('│');
        out.push_str(&lines.line(row as usize));
        out.push('\n');
        prev = Some(row);
    }
    if let Some(p) = prev
        && (p as usize) + 1 < lines.count()
    {
        out.push_str("⋮\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_and_cuts() {
        let long = "x".repeat(150);
        let src = format!("a\nb\nc\n{long}\ne\n");
        let lines = Lines::new(src.into_bytes().into());
        assert_eq!(lines.count(), 5);
        let mut out = String::new();
        file(&mut out, "f.py", &[1, 3], Some(&lines), &[]);
        let want = format!("f.py:\n⋮\n│b\n⋮\n│{}\n⋮\n", "x".repeat(MAX_LINE_CHARS));
        assert_eq!(out, want);
        assert_eq!(estimate_tokens("abcde"), 2);
    }
}
