; Kotlin: packages (definition.module), classes (definition.class; `interface`
; as definition.interface, `enum class` as definition.enum), objects and
; companion objects (definition.object), functions (definition.function; in a
; class body definition.method), type aliases (definition.type), top-level
; properties (definition.variable; `const val` as definition.constant),
; member and constructor properties (definition.field), enum entries
; (definition.constant); calls (reference.call) and supertypes
; (reference.implementation). KDoc comments just above become docs.

(package_header
  (qualified_identifier) @name) @definition.module

(
  [(block_comment) (line_comment)]* @doc
  .
  (class_declaration
    "interface"
    name: (identifier) @name) @definition.interface
  (#strip! @doc "(?m)\\A//+[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
  (#select-adjacent! @doc @definition.interface)
)

(
  [(block_comment) (line_comment)]* @doc
  .
  (class_declaration
    (modifiers (class_modifier "enum"))
    name: (identifier) @name) @definition.enum
  (#strip! @doc "(?m)\\A//+[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
  (#select-adjacent! @doc @definition.enum)
)

(
  [(block_comment) (line_comment)]* @doc
  .
  (class_declaration
    name: (identifier) @name) @definition.class
  (#strip! @doc "(?m)\\A//+[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
  (#select-adjacent! @doc @definition.class)
)

(
  [(block_comment) (line_comment)]* @doc
  .
  [
    (object_declaration
      name: (identifier) @name)
    (companion_object
      name: (identifier) @name)
  ] @definition.object
  (#strip! @doc "(?m)\\A//+[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
  (#select-adjacent! @doc @definition.object)
)

(enum_entry
  . (identifier) @name) @definition.constant

; Doc comments inside a parent pattern need `+`, not `*`: with `*` the
; pinned tree-sitter misses later siblings (tree-sitter issue #3683), so
; undocumented members get a pattern of their own.
(class_body
  [(block_comment) (line_comment)]+ @doc
  .
  (function_declaration
    name: (identifier) @name) @definition.method
  (#strip! @doc "(?m)\\A//+[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
  (#select-adjacent! @doc @definition.method))

(class_body
  (function_declaration
    name: (identifier) @name) @definition.method)

(
  [(block_comment) (line_comment)]* @doc
  .
  (function_declaration
    name: (identifier) @name) @definition.function
  (#strip! @doc "(?m)\\A//+[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
  (#select-adjacent! @doc @definition.function)
)

(type_alias
  type: (identifier) @name) @definition.type

(source_file
  (property_declaration
    (modifiers (property_modifier "const"))
    [
      (variable_declaration (identifier) @name)
      (multi_variable_declaration (variable_declaration (identifier) @name))
    ]) @definition.constant)

(source_file
  (property_declaration
    [
      (variable_declaration (identifier) @name)
      (multi_variable_declaration (variable_declaration (identifier) @name))
    ]) @definition.variable)

(class_body
  (property_declaration
    (modifiers (property_modifier "const"))
    (variable_declaration (identifier) @name)) @definition.constant)

(class_body
  (property_declaration
    (variable_declaration (identifier) @name)) @definition.field)

(class_parameter
  ["val" "var"]
  (identifier) @name) @definition.field

(call_expression
  . (identifier) @name) @reference.call

(call_expression
  . (navigation_expression
    (identifier) @name .)) @reference.call

(delegation_specifier
  [
    (user_type (identifier) @name)
    (constructor_invocation (user_type (identifier) @name))
  ]) @reference.implementation
