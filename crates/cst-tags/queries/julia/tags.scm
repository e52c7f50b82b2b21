; Julia: modules (definition.module), structs (definition.class) and their
; fields (definition.field), abstract and primitive types (definition.type),
; functions in long and short form (definition.function), macros
; (definition.macro), `const` bindings (definition.constant), assignments at
; file or module top level (definition.variable); calls and macro calls
; (reference.call). A string literal right above a definition is its
; docstring.

(module_definition
  name: (identifier) @name) @definition.module

(
  (string_literal)? @doc
  .
  (struct_definition
    (type_head
      [
        (identifier) @name
        (parametrized_type_expression . (identifier) @name)
        (binary_expression
          .
          [
            (identifier) @name
            (parametrized_type_expression . (identifier) @name)
          ])
      ])) @definition.class
  (#strip! @doc "^\"+[ \t]*\n?|\n?[ \t]*\"+$")
  (#select-adjacent! @doc @definition.class)
)

(struct_definition
  [
    (typed_expression . (identifier) @name)
    (identifier) @name
  ] @definition.field)

(
  (string_literal)? @doc
  .
  [
    (abstract_definition
      (type_head
        [
          (identifier) @name
          (parametrized_type_expression . (identifier) @name)
          (binary_expression
            .
            [
              (identifier) @name
              (parametrized_type_expression . (identifier) @name)
            ])
        ]))
    (primitive_definition
      (type_head
        [
          (identifier) @name
          (binary_expression . (identifier) @name)
        ]))
  ] @definition.type
  (#strip! @doc "^\"+[ \t]*\n?|\n?[ \t]*\"+$")
  (#select-adjacent! @doc @definition.type)
)

(
  (string_literal)? @doc
  .
  (function_definition
    (signature
      [
        (identifier) @name
        (call_expression
          .
          [
            (identifier) @name
            (field_expression (identifier) @name .)
          ])
        (where_expression
          .
          (call_expression
            .
            [
              (identifier) @name
              (field_expression (identifier) @name .)
            ]))
        (typed_expression
          .
          (call_expression
            .
            [
              (identifier) @name
              (field_expression (identifier) @name .)
            ]))
        (where_expression
          .
          (typed_expression
            .
            (call_expression
              .
              [
                (identifier) @name
                (field_expression (identifier) @name .)
              ])))
      ])) @definition.function
  (#strip! @doc "^\"+[ \t]*\n?|\n?[ \t]*\"+$")
  (#select-adjacent! @doc @definition.function)
)

(
  (string_literal)? @doc
  .
  (macro_definition
    (signature
      (call_expression
        .
        (identifier) @name))) @definition.macro
  (#strip! @doc "^\"+[ \t]*\n?|\n?[ \t]*\"+$")
  (#select-adjacent! @doc @definition.macro)
)

; Short form: `f(x) = ...`, `f(x)::T = ...`, `f(x) where T = ...`.
(
  (string_literal)? @doc
  .
  (assignment
    .
    [
      (call_expression
        .
        [
          (identifier) @name
          (field_expression (identifier) @name .)
        ])
      (where_expression
        .
        (call_expression
          .
          [
            (identifier) @name
            (field_expression (identifier) @name .)
          ]))
      (typed_expression
        .
        (call_expression
          .
          [
            (identifier) @name
            (field_expression (identifier) @name .)
          ]))
    ]) @definition.function
  (#strip! @doc "^\"+[ \t]*\n?|\n?[ \t]*\"+$")
  (#select-adjacent! @doc @definition.function)
)

(
  (string_literal)? @doc
  .
  (const_statement
    (assignment
      .
      [
        (identifier) @name
        (typed_expression . (identifier) @name)
      ])) @definition.constant
  (#strip! @doc "^\"+[ \t]*\n?|\n?[ \t]*\"+$")
  (#select-adjacent! @doc @definition.constant)
)

(source_file
  (assignment
    .
    [
      (identifier) @name
      (typed_expression . (identifier) @name)
    ]) @definition.variable)

(module_definition
  (assignment
    .
    [
      (identifier) @name
      (typed_expression . (identifier) @name)
    ]) @definition.variable)

(call_expression
  .
  [
    (identifier) @name
    (field_expression (identifier) @name .)
  ]) @reference.call

(macrocall_expression
  .
  (macro_identifier
    [
      (identifier) @name
      (scoped_identifier (identifier) @name .)
    ])) @reference.call
