//! The server's capabilities.
//!
//! Offered: incremental text sync (open/close, changes, save), document
//! symbols, folding ranges, selection ranges, document highlights (from
//! the grammar's `locals.scm` where it ships one, else syntactic: see
//! `handlers::highlight`), semantic tokens (full, full with delta, range)
//! on the legend of [`LEGEND_TYPES`](crate::LEGEND_TYPES) and
//! [`LEGEND_MODIFIERS`](crate::LEGEND_MODIFIERS); diagnostics are pushed
//! (`publishDiagnostics`). With a [`SymbolProvider`](crate::SymbolProvider):
//! workspace symbols, definition, references.

use cst_workspace::Encoding;
use lsp_types::{
    FoldingRangeProviderCapability, OneOf, SaveOptions, SelectionRangeProviderCapability,
    SemanticTokensFullOptions, SemanticTokensLegend, SemanticTokensOptions,
    SemanticTokensServerCapabilities, ServerCapabilities, TextDocumentSyncCapability,
    TextDocumentSyncKind, TextDocumentSyncOptions, TextDocumentSyncSaveOptions,
};

use crate::convert::encoding_kind;
use crate::handlers::semantic::{LEGEND_MODIFIERS, LEGEND_TYPES};

/// The semantic tokens legend the server publishes.
pub fn legend() -> SemanticTokensLegend {
    SemanticTokensLegend {
        token_types: LEGEND_TYPES.to_vec(),
        token_modifiers: LEGEND_MODIFIERS.to_vec(),
    }
}

/// The capabilities for a client spoken to in `encoding`; the symbol
/// methods only `with_symbols`.
pub fn server_capabilities(encoding: Encoding, with_symbols: bool) -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(encoding_kind(encoding)),
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                will_save: None,
                will_save_wait_until: None,
                save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                    include_text: Some(false),
                })),
            },
        )),
        document_symbol_provider: Some(OneOf::Left(true)),
        folding_range_provider: Some(FoldingRangeProviderCapability::Simple(true)),
        selection_range_provider: Some(SelectionRangeProviderCapability::Simple(true)),
        document_highlight_provider: Some(OneOf::Left(true)),
        semantic_tokens_provider: Some(SemanticTokensServerCapabilities::SemanticTokensOptions(
            SemanticTokensOptions {
                work_done_progress_options: Default::default(),
                legend: legend(),
                range: Some(true),
                full: Some(SemanticTokensFullOptions::Delta { delta: Some(true) }),
            },
        )),
        workspace_symbol_provider: with_symbols.then_some(OneOf::Left(true)),
        definition_provider: with_symbols.then_some(OneOf::Left(true)),
        references_provider: with_symbols.then_some(OneOf::Left(true)),
        ..ServerCapabilities::default()
    }
}
