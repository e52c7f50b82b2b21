; Groovy: packages (definition.module), classes and records
; (definition.class), interfaces and annotation types (definition.interface),
; enums (definition.enum) and their constants (definition.constant), methods
; and constructors in a type body (definition.method), script-level `def`
; functions and methods (definition.function), fields (definition.field),
; script-level variables (definition.variable); method calls and command-style
; calls (reference.call), `new T` (reference.class), superclasses and
; implemented interfaces (reference.implementation). Comments right above a
; definition (Groovydoc included) become its docs.
;
; Doc comments inside a parent pattern need `+`, not `*`: with `*` the pinned
; tree-sitter misses later siblings (tree-sitter issue #3683), so undocumented
; members get a pattern of their own.

(package_declaration
  [
    (identifier)
    (scoped_identifier)
  ] @name) @definition.module

(
  [(line_comment) (block_comment)]* @doc
  .
  [
    (class_declaration
      name: (identifier) @name)
    (record_declaration
      name: (identifier) @name)
  ] @definition.class
  (#strip! @doc "(?m)\\A//+[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
  (#select-adjacent! @doc @definition.class)
)

(
  [(line_comment) (block_comment)]* @doc
  .
  [
    (interface_declaration
      name: (identifier) @name)
    (annotation_type_declaration
      name: (identifier) @name)
  ] @definition.interface
  (#strip! @doc "(?m)\\A//+[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
  (#select-adjacent! @doc @definition.interface)
)

(
  [(line_comment) (block_comment)]* @doc
  .
  (enum_declaration
    name: (identifier) @name) @definition.enum
  (#strip! @doc "(?m)\\A//+[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
  (#select-adjacent! @doc @definition.enum)
)

(enum_constant
  name: (identifier) @name) @definition.constant

(class_body
  [(line_comment) (block_comment)]+ @doc
  .
  [
    (method_declaration
      name: (identifier) @name)
    (constructor_declaration
      name: (identifier) @name)
  ] @definition.method
  (#strip! @doc "(?m)\\A//+[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
  (#select-adjacent! @doc @definition.method))

(class_body
  [
    (method_declaration
      name: (identifier) @name)
    (constructor_declaration
      name: (identifier) @name)
  ] @definition.method)

(interface_body
  [(line_comment) (block_comment)]+ @doc
  .
  (method_declaration
    name: (identifier) @name) @definition.method
  (#strip! @doc "(?m)\\A//+[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
  (#select-adjacent! @doc @definition.method))

(interface_body
  (method_declaration
    name: (identifier) @name) @definition.method)

(program
  [(line_comment) (block_comment)]+ @doc
  .
  [
    (function_definition
      name: (identifier) @name)
    (method_declaration
      name: (identifier) @name)
  ] @definition.function
  (#strip! @doc "(?m)\\A//+[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
  (#select-adjacent! @doc @definition.function))

(program
  [
    (function_definition
      name: (identifier) @name)
    (method_declaration
      name: (identifier) @name)
  ] @definition.function)

(field_declaration
  declarator: (variable_declarator
    name: (identifier) @name)) @definition.field

(program
  (local_variable_declaration
    declarator: (variable_declarator
      name: (identifier) @name)) @definition.variable)

(method_invocation
  name: (identifier) @name) @reference.call

(juxt_function_call
  name: (identifier) @name) @reference.call

(object_creation_expression
  type: [
    (type_identifier) @name
    (generic_type (type_identifier) @name)
    (scoped_type_identifier (type_identifier) @name .)
  ]) @reference.class

[
  (superclass
    [
      (type_identifier) @name
      (generic_type (type_identifier) @name)
    ])
  (super_interfaces
    (type_list
      [
        (type_identifier) @name
        (generic_type (type_identifier) @name)
      ]))
] @reference.implementation
