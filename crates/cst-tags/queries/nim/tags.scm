; Nim (the small grammar cst pins: procs, funcs, let/var/const, calls): procs
; and funcs (definition.function; a `##` doc comment right after the
; signature becomes docs, matched as `(_)` since the grammar rejects
; `(comment)` there), top-level `const` (definition.constant) and `let`/`var`
; (definition.variable) bindings; calls (reference.call).

(
  [
    (proc_declaration
      name: (identifier) @name
      (_) @doc
      .
      body: (body))
    (func_declaration
      name: (identifier) @name
      (_) @doc
      .
      body: (body))
  ] @definition.function
  (#match? @doc "^##")
  (#strip! @doc "^##+[ \t]?")
)

[
  (proc_declaration
    name: (identifier) @name)
  (func_declaration
    name: (identifier) @name)
] @definition.function

(source_file
  (local_decl
    "const"
    name: (identifier) @name) @definition.constant)

(source_file
  (local_decl
    ["let" "var"]
    name: (identifier) @name) @definition.variable)

(call
  name: (identifier) @name) @reference.call
