; SQL: tables, views and materialized views (definition.class), their
; columns, added ones included (definition.field), functions, procedures and
; triggers (definition.function), types (definition.type), schemas and
; databases (definition.module); tables and views read or written
; (reference.class), function calls (reference.call). `--` or `/* */`
; comments right above a CREATE statement become its docs.

(
  (comment)* @doc
  .
  (statement
    [
      (create_table
        [(keyword_table) (keyword_exists)]
        .
        (object_reference
          name: (identifier) @name))
      (create_view
        [(keyword_view) (keyword_exists)]
        .
        (object_reference
          name: (identifier) @name))
      (create_materialized_view
        [(keyword_view) (keyword_exists)]
        .
        (object_reference
          name: (identifier) @name))
    ] @definition.class)
  (#strip! @doc "(?m)\\A--+[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
  (#select-adjacent! @doc @definition.class)
)

(
  (comment)* @doc
  .
  (statement
    [
      (create_function
        [(keyword_function) (keyword_exists)]
        .
        (object_reference
          name: (identifier) @name))
      (create_trigger
        [(keyword_trigger) (keyword_exists)]
        .
        (object_reference
          name: (identifier) @name))
    ] @definition.function)
  (#strip! @doc "(?m)\\A--+[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
  (#select-adjacent! @doc @definition.function)
)

(
  (comment)* @doc
  .
  (statement
    (create_type
      (keyword_type)
      .
      (object_reference
        name: (identifier) @name)) @definition.type)
  (#strip! @doc "(?m)\\A--+[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
  (#select-adjacent! @doc @definition.type)
)

(
  (comment)* @doc
  .
  (statement
    [
      (create_schema
        (identifier) @name)
      (create_database
        name: (identifier) @name)
    ] @definition.module)
  (#strip! @doc "(?m)\\A--+[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
  (#select-adjacent! @doc @definition.module)
)

(column_definition
  name: (identifier) @name) @definition.field

(relation
  .
  (object_reference
    name: (identifier) @name)) @reference.class

(insert
  (object_reference
    name: (identifier) @name)) @reference.class

(invocation
  .
  (object_reference
    name: (identifier) @name)) @reference.call

[
  (alter_table
    (object_reference
      name: (identifier) @name))
  (create_index
    (object_reference
      name: (identifier) @name))
] @reference.class
