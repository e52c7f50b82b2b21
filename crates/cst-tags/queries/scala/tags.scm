; Scala: packages and package objects (definition.module), traits
; (definition.interface), classes and enum cases with parameters
; (definition.class), objects (definition.object), enums (definition.enum),
; simple enum cases (definition.constant), defs (definition.method in a
; template body, definition.function elsewhere), type members
; (definition.type), vals/vars of templates (definition.field) and of the
; file top level (definition.variable), givens (definition.variable); calls
; (reference.call), `new T` (reference.class), parents in `extends`/`with`
; (reference.implementation). Scaladoc just above a definition becomes docs.

(package_clause
  name: (package_identifier) @name) @definition.module

(package_object
  name: (_) @name) @definition.module

(
  [(comment) (block_comment)]* @doc
  .
  (trait_definition
    name: (_) @name) @definition.interface
  (#strip! @doc "(?m)\\A//+[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
  (#select-adjacent! @doc @definition.interface)
)

(
  [(comment) (block_comment)]* @doc
  .
  (class_definition
    name: (_) @name) @definition.class
  (#strip! @doc "(?m)\\A//+[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
  (#select-adjacent! @doc @definition.class)
)

(
  [(comment) (block_comment)]* @doc
  .
  (object_definition
    name: (_) @name) @definition.object
  (#strip! @doc "(?m)\\A//+[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
  (#select-adjacent! @doc @definition.object)
)

(
  [(comment) (block_comment)]* @doc
  .
  (enum_definition
    name: (_) @name) @definition.enum
  (#strip! @doc "(?m)\\A//+[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
  (#select-adjacent! @doc @definition.enum)
)

(simple_enum_case
  name: (_) @name) @definition.constant

(full_enum_case
  name: (_) @name) @definition.class

; Doc comments inside a parent pattern need `+`, not `*`: with `*` the
; pinned tree-sitter misses later siblings (tree-sitter issue #3683), so
; undocumented members get a pattern of their own.
(template_body
  [(comment) (block_comment)]+ @doc
  .
  [
    (function_definition
      name: (_) @name)
    (function_declaration
      name: (_) @name)
  ] @definition.method
  (#strip! @doc "(?m)\\A//+[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
  (#select-adjacent! @doc @definition.method))

(template_body
  [
    (function_definition
      name: (_) @name)
    (function_declaration
      name: (_) @name)
  ] @definition.method)

(
  [(comment) (block_comment)]* @doc
  .
  [
    (function_definition
      name: (_) @name)
    (function_declaration
      name: (_) @name)
  ] @definition.function
  (#strip! @doc "(?m)\\A//+[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
  (#select-adjacent! @doc @definition.function)
)

(
  [(comment) (block_comment)]* @doc
  .
  (type_definition
    name: (type_identifier) @name) @definition.type
  (#strip! @doc "(?m)\\A//+[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
  (#select-adjacent! @doc @definition.type)
)

(template_body
  [
    (val_definition
      pattern: [
        (identifier) @name
        (identifiers (identifier) @name)
      ])
    (var_definition
      pattern: [
        (identifier) @name
        (identifiers (identifier) @name)
      ])
    (val_declaration
      name: (_) @name)
    (var_declaration
      name: (_) @name)
  ] @definition.field)

(compilation_unit
  [
    (val_definition
      pattern: (identifier) @name)
    (var_definition
      pattern: (identifier) @name)
  ] @definition.variable)

(given_definition
  name: (_) @name) @definition.variable

(call_expression
  function: [
    (identifier) @name
    (field_expression
      field: (identifier) @name)
    (generic_function
      function: [
        (identifier) @name
        (field_expression
          field: (identifier) @name)
      ])
  ]) @reference.call

(instance_expression
  [
    (type_identifier) @name
    (generic_type
      type: (type_identifier) @name)
    (stable_type_identifier
      (type_identifier) @name .)
  ]) @reference.class

(extends_clause
  type: [
    (type_identifier) @name
    (generic_type
      type: (type_identifier) @name)
    (stable_type_identifier
      (type_identifier) @name .)
  ]) @reference.implementation
