; D: modules (definition.module), classes, structs and unions
; (definition.class), interfaces (definition.interface), enums
; (definition.enum) and their members (definition.constant), functions
; (definition.function; in a class, struct, union or interface body
; definition.method, constructors and destructors named `this`), aliases
; (definition.type), manifest constants `enum x = ...` (definition.constant),
; fields (definition.field) and module-level variables (definition.variable);
; calls (reference.call), `new T` (reference.class), base classes and
; interfaces (reference.implementation). Ddoc comments (`/** */`, `/++ +/`,
; `///`) right above a declaration become its docs.
;
; Doc comments inside a parent pattern need `+`, not `*`: with `*` the pinned
; tree-sitter misses later siblings (tree-sitter issue #3683), so undocumented
; members get a pattern of their own.

(
  (comment)* @doc
  .
  (module_def
    (module_declaration
      (module_fqn) @name) @definition.module)
  (#strip! @doc "(?m)\\A//+[ \t]?|\\A/[*+]+[ \t]*\n?|\\s*[*+]+/\\z|^[ \t]*[*+]+[ \t]?")
  (#select-adjacent! @doc @definition.module)
)

(
  (comment)* @doc
  .
  [
    (class_declaration
      (class)
      .
      (identifier) @name)
    (struct_declaration
      (struct)
      .
      (identifier) @name)
    (union_declaration
      (union)
      .
      (identifier) @name)
  ] @definition.class
  (#strip! @doc "(?m)\\A//+[ \t]?|\\A/[*+]+[ \t]*\n?|\\s*[*+]+/\\z|^[ \t]*[*+]+[ \t]?")
  (#select-adjacent! @doc @definition.class)
)

(
  (comment)* @doc
  .
  (interface_declaration
    (interface)
    .
    (identifier) @name) @definition.interface
  (#strip! @doc "(?m)\\A//+[ \t]?|\\A/[*+]+[ \t]*\n?|\\s*[*+]+/\\z|^[ \t]*[*+]+[ \t]?")
  (#select-adjacent! @doc @definition.interface)
)

(
  (comment)* @doc
  .
  (enum_declaration
    (enum)
    .
    (identifier) @name) @definition.enum
  (#strip! @doc "(?m)\\A//+[ \t]?|\\A/[*+]+[ \t]*\n?|\\s*[*+]+/\\z|^[ \t]*[*+]+[ \t]?")
  (#select-adjacent! @doc @definition.enum)
)

(enum_member
  .
  (identifier) @name) @definition.constant

(aggregate_body
  (comment)+ @doc
  .
  [
    (function_declaration
      (identifier) @name)
    (constructor
      (this) @name)
    (destructor
      (this) @name)
  ] @definition.method
  (#strip! @doc "(?m)\\A//+[ \t]?|\\A/[*+]+[ \t]*\n?|\\s*[*+]+/\\z|^[ \t]*[*+]+[ \t]?")
  (#select-adjacent! @doc @definition.method))

(aggregate_body
  [
    (function_declaration
      (identifier) @name)
    (constructor
      (this) @name)
    (destructor
      (this) @name)
  ] @definition.method)

(
  (comment)* @doc
  .
  (function_declaration
    (identifier) @name) @definition.function
  (#strip! @doc "(?m)\\A//+[ \t]?|\\A/[*+]+[ \t]*\n?|\\s*[*+]+/\\z|^[ \t]*[*+]+[ \t]?")
  (#select-adjacent! @doc @definition.function)
)

(
  (comment)* @doc
  .
  (alias_declaration
    [
      (identifier) @name
      (alias_initializer
        .
        (identifier) @name)
    ]) @definition.type
  (#strip! @doc "(?m)\\A//+[ \t]?|\\A/[*+]+[ \t]*\n?|\\s*[*+]+/\\z|^[ \t]*[*+]+[ \t]?")
  (#select-adjacent! @doc @definition.type)
)

(manifest_declarator
  .
  (identifier) @name) @definition.constant

(aggregate_body
  (variable_declaration
    (declarator
      .
      (identifier) @name)) @definition.field)

(module_def
  [
    (variable_declaration
      (declarator
        .
        (identifier) @name))
    (auto_declaration
      variable: (identifier) @name)
  ] @definition.variable)

(call_expression
  .
  [
    (identifier) @name
    (type
      (identifier) @name .)
  ]) @reference.call

(new_expression
  (type
    .
    (identifier) @name)) @reference.class

(base_class
  [
    (identifier) @name
    (type
      .
      (identifier) @name)
  ]) @reference.implementation
