//! Conversions between the protocol and the workspace layer: position
//! encodings, positions and ranges, URIs and paths, symbol kinds.

use std::path::{Path, PathBuf};

use cst_workspace::{Encoding, LineIndex};
use lsp_types::{PositionEncodingKind, Url};

/// The encoding the server uses with a client that offers `offered`
/// (`general.positionEncodings`): UTF-8 when offered, else UTF-16, which
/// every client understands.
pub fn negotiate(offered: Option<&[PositionEncodingKind]>) -> Encoding {
    match offered {
        Some(kinds) if kinds.contains(&PositionEncodingKind::UTF8) => Encoding::Utf8,
        _ => Encoding::Utf16,
    }
}

/// The protocol's name of `encoding`.
pub fn encoding_kind(encoding: Encoding) -> PositionEncodingKind {
    match encoding {
        Encoding::Utf8 => PositionEncodingKind::UTF8,
        Encoding::Utf16 => PositionEncodingKind::UTF16,
    }
}

/// A protocol position as the workspace layer's.
pub fn position_in(p: lsp_types::Position) -> cst_workspace::Position {
    cst_workspace::Position {
        line: p.line,
        character: p.character,
    }
}

/// The workspace layer's position as the protocol's.
pub fn position_out(p: cst_workspace::Position) -> lsp_types::Position {
    lsp_types::Position {
        line: p.line,
        character: p.character,
    }
}

/// A text with its line index: what positions are converted against.
#[derive(Clone, Copy)]
pub struct TextLines<'a> {
    /// The text.
    pub text: &'a [u8],
    /// Its line index.
    pub lines: &'a LineIndex,
    /// The negotiated encoding.
    pub encoding: Encoding,
}

impl TextLines<'_> {
    /// The protocol position of byte `offset`.
    pub fn position(&self, offset: usize) -> lsp_types::Position {
        position_out(self.lines.position(self.text, offset, self.encoding))
    }

    /// The protocol range of bytes `start..end`.
    pub fn range(&self, start: usize, end: usize) -> lsp_types::Range {
        lsp_types::Range {
            start: self.position(start),
            end: self.position(end),
        }
    }

    /// The byte offset of a protocol position (a column past the line's
    /// end stops at it; a column inside a character is an error).
    pub fn offset(&self, p: lsp_types::Position) -> Result<usize, String> {
        self.lines.offset(self.text, position_in(p), self.encoding)
    }
}

/// The local path of a `file:` URI.
pub fn uri_to_path(uri: &Url) -> Result<PathBuf, String> {
    if uri.scheme() != "file" {
        return Err(format!("{uri}: not a file: URI"));
    }
    uri.to_file_path()
        .map_err(|()| format!("{uri}: not a local file path"))
}

/// The `file:` URI of an absolute path.
pub fn path_to_uri(path: &Path) -> Result<Url, String> {
    Url::from_file_path(path).map_err(|()| format!("{}: not an absolute path", path.display()))
}

/// The protocol's symbol kind of an outline item's syntax type
/// (tree-sitter-tags' `definition.<type>` names).
pub fn symbol_kind(syntax_type: &str) -> lsp_types::SymbolKind {
    use lsp_types::SymbolKind as K;
    match syntax_type {
        "function" => K::FUNCTION,
        "method" => K::METHOD,
        "class" => K::CLASS,
        "interface" | "trait" => K::INTERFACE,
        "module" | "namespace" | "package" => K::MODULE,
        "macro" => K::FUNCTION,
        "struct" => K::STRUCT,
        "enum" => K::ENUM,
        "union" => K::STRUCT,
        "type" | "typedef" => K::TYPE_PARAMETER,
        "constant" | "const" => K::CONSTANT,
        "variable" | "var" => K::VARIABLE,
        "field" | "property" => K::FIELD,
        "constructor" => K::CONSTRUCTOR,
        "enum_variant" | "enum_member" | "variant" => K::ENUM_MEMBER,
        "implementation" | "impl" => K::OBJECT,
        _ => K::VARIABLE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_path_round_trip() {
        let p = Path::new("/tmp/a dir/ü😀.rs");
        let u = path_to_uri(p).expect("absolute");
        assert_eq!(u.scheme(), "file");
        assert_eq!(uri_to_path(&u).expect("file"), p);
        let u = Url::parse("untitled:Untitled-1").expect("a URI");
        assert!(uri_to_path(&u).is_err());
        assert!(path_to_uri(Path::new("relative")).is_err());
    }

    #[test]
    fn negotiation() {
        assert_eq!(negotiate(None), Encoding::Utf16);
        assert_eq!(
            negotiate(Some(&[
                PositionEncodingKind::UTF16,
                PositionEncodingKind::UTF8
            ])),
            Encoding::Utf8
        );
        assert_eq!(
            negotiate(Some(&[PositionEncodingKind::UTF32])),
            Encoding::Utf16
        );
    }
}
