//! Printing: stdout writes that hand a closed pipe back as an error (the
//! command then ends quietly), JSON from `Serialize` structs, and the small
//! text helpers the commands share.

use std::io::{IsTerminal, Write};
use std::path::Path;

use serde::Serialize;

/// `println!` that hands a write error back (`?`) instead of panicking: a
/// closed stdout (`cst … | head`) then ends the command quietly.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)?
    }};
}

/// Writes `value` as one line of compact JSON. A write error comes back as
/// the `io::Error` it is (a closed pipe is recognised as one).
pub(crate) fn json_line(out: &mut impl Write, value: &impl Serialize) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, value).map_err(std::io::Error::from)?;
    out.write_all(b"\n")
}

/// Prints `value` as indented JSON on stdout.
pub(crate) fn print_pretty(value: &impl Serialize) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(value).expect("output structs serialise");
    writeln!(std::io::stdout().lock(), "{text}")
}

/// `path` relative to `base` when it is under it.
pub(crate) fn shown(path: &Path, base: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

/// The whole line holding byte `at` (whose column is `column`), without
/// its line break.
pub(crate) fn line_at(source: &[u8], at: usize, column: usize) -> &[u8] {
    let start = at - column.min(at);
    let end = source[start..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(source.len(), |n| start + n);
    &source[start..end]
}

/// `s` with line breaks and tabs escaped (`\n`, `\r`, `\t`).
pub(crate) fn one_line(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains(['\n', '\r', '\t']) {
        return s.into();
    }
    s.replace('\n', "\\n")
        .replace('\r', "\\r")
        .replace('\t', "\\t")
        .into()
}

/// Whether a command draws progress bars: when stderr is a terminal and
/// its output is not JSON (for a program).
pub(crate) fn progress_wanted(json: bool) -> bool {
    !json && std::io::stderr().is_terminal()
}

/// A progress bar on stderr drawn with `template` (indicatif's), when
/// `show` (see [`progress_wanted`]); `None` otherwise.
pub(crate) fn progress_bar(show: bool, template: &str) -> Option<indicatif::ProgressBar> {
    show.then(|| {
        let b = indicatif::ProgressBar::new(0);
        b.set_style(indicatif::ProgressStyle::with_template(template).expect("valid template"));
        b
    })
}
