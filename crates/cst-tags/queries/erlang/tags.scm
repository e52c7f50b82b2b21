; Erlang: modules (definition.module), functions, tagged once at their first
; clause (definition.function; `%` comments right above the function or its
; -spec become docs), behaviour callbacks (definition.method), records
; (definition.class) and their fields (definition.field), types and opaque
; types (definition.type), macros (definition.macro); local and remote calls
; (reference.call), implemented behaviours (reference.implementation).

(module_attribute
  name: (atom) @name) @definition.module

; Each clause is a fun_decl of its own, ended by `;` when the function goes
; on and by `.` at its last clause; only a first clause is tagged: one after
; a -spec, after comments, after any node not ending in `;`, or first in the
; file. A node next to the named one is captured as @local.scope only to be
; tested or measured from: tree-sitter-tags allows only its own capture names
; and gives that one no meaning in a tags pattern.

; Docs sit above the -spec when there is one (`#select-adjacent!` measures
; from the spec).
(
  (comment)* @doc
  .
  (spec) @local.scope
  .
  (fun_decl
    clause: (function_clause
      name: (atom) @name)) @definition.function
  (#strip! @doc "^%+[ \t]?(@doc[ \t]+)?")
  (#select-adjacent! @doc @local.scope)
)

(
  (comment)+ @doc
  .
  (fun_decl
    clause: (function_clause
      name: (atom) @name)) @definition.function
  (#strip! @doc "^%+[ \t]?(@doc[ \t]+)?")
  (#select-adjacent! @doc @definition.function)
)

(
  (_) @local.scope
  .
  (fun_decl
    clause: (function_clause
      name: (atom) @name)) @definition.function
  (#not-match? @local.scope ";[ \t\r\n]*$")
)

(source_file
  .
  (fun_decl
    clause: (function_clause
      name: (atom) @name)) @definition.function)

(
  (comment)* @doc
  .
  (callback
    fun: (atom) @name) @definition.method
  (#strip! @doc "^%+[ \t]?(@doc[ \t]+)?")
  (#select-adjacent! @doc @definition.method)
)

(
  (comment)* @doc
  .
  (record_decl
    name: (atom) @name) @definition.class
  (#strip! @doc "^%+[ \t]?(@doc[ \t]+)?")
  (#select-adjacent! @doc @definition.class)
)

(record_decl
  fields: (record_field
    name: (atom) @name) @definition.field)

(
  (comment)* @doc
  .
  [
    (type_alias
      name: (type_name
        name: (atom) @name))
    (opaque
      name: (type_name
        name: (atom) @name))
  ] @definition.type
  (#strip! @doc "^%+[ \t]?(@doc[ \t]+)?")
  (#select-adjacent! @doc @definition.type)
)

(pp_define
  lhs: (macro_lhs
    name: (_) @name)) @definition.macro

(behaviour_attribute
  name: (atom) @name) @reference.implementation

(call
  expr: (atom) @name) @reference.call
