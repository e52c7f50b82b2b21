; Zig: `const X = struct/union/opaque {...}` (definition.class), enums
; (definition.enum), error sets (definition.type), functions
; (definition.function; inside a container definition.method), container
; fields (definition.field; enum members and error names as
; definition.constant), top-level and container-level `const`
; (definition.constant) and `var` (definition.variable) other than
; `@import`/`@This()`/`@cImport` aliases; calls (reference.call). `///`
; comments right above a declaration become its docs.

(
  (comment)* @doc
  .
  (variable_declaration
    (identifier) @name
    (struct_declaration)) @definition.class
  (#strip! @doc "^//[/!]?[ \t]?")
  (#select-adjacent! @doc @definition.class)
)

(
  (comment)* @doc
  .
  (variable_declaration
    (identifier) @name
    (union_declaration)) @definition.class
  (#strip! @doc "^//[/!]?[ \t]?")
  (#select-adjacent! @doc @definition.class)
)

(
  (comment)* @doc
  .
  (variable_declaration
    (identifier) @name
    (opaque_declaration)) @definition.class
  (#strip! @doc "^//[/!]?[ \t]?")
  (#select-adjacent! @doc @definition.class)
)

(
  (comment)* @doc
  .
  (variable_declaration
    (identifier) @name
    (enum_declaration)) @definition.enum
  (#strip! @doc "^//[/!]?[ \t]?")
  (#select-adjacent! @doc @definition.enum)
)

(
  (comment)* @doc
  .
  (variable_declaration
    (identifier) @name
    (error_set_declaration)) @definition.type
  (#strip! @doc "^//[/!]?[ \t]?")
  (#select-adjacent! @doc @definition.type)
)

; Doc comments inside a parent pattern need `+`, not `*`: with `*` the
; pinned tree-sitter misses later siblings (tree-sitter issue #3683), so
; undocumented declarations get patterns of their own.

(source_file
  (comment)+ @doc
  .
  (function_declaration
    name: (identifier) @name) @definition.function
  (#strip! @doc "^//[/!]?[ \t]?")
  (#select-adjacent! @doc @definition.function))

(source_file
  (function_declaration
    name: (identifier) @name) @definition.function)

(struct_declaration
  (comment)+ @doc
  .
  (function_declaration
    name: (identifier) @name) @definition.method
  (#strip! @doc "^//[/!]?[ \t]?")
  (#select-adjacent! @doc @definition.method))

(struct_declaration
  (function_declaration
    name: (identifier) @name) @definition.method)

(enum_declaration
  (comment)+ @doc
  .
  (function_declaration
    name: (identifier) @name) @definition.method
  (#strip! @doc "^//[/!]?[ \t]?")
  (#select-adjacent! @doc @definition.method))

(enum_declaration
  (function_declaration
    name: (identifier) @name) @definition.method)

(union_declaration
  (comment)+ @doc
  .
  (function_declaration
    name: (identifier) @name) @definition.method
  (#strip! @doc "^//[/!]?[ \t]?")
  (#select-adjacent! @doc @definition.method))

(union_declaration
  (function_declaration
    name: (identifier) @name) @definition.method)

(opaque_declaration
  (comment)+ @doc
  .
  (function_declaration
    name: (identifier) @name) @definition.method
  (#strip! @doc "^//[/!]?[ \t]?")
  (#select-adjacent! @doc @definition.method))

(opaque_declaration
  (function_declaration
    name: (identifier) @name) @definition.method)

(enum_declaration
  (container_field
    name: (identifier) @name) @definition.constant)

(error_set_declaration
  (identifier) @name) @definition.constant

(container_field
  name: (identifier) @name) @definition.field

(source_file
  (comment)+ @doc
  .
  (variable_declaration
    "const"
    (identifier) @name) @definition.constant
  (#not-match? @definition.constant "^(pub[ \t]+)?const[ \t]+[A-Za-z0-9_]+[ \t]*=[ \t]*@(import|This|cImport)[ \t]*\\(")
  (#strip! @doc "^//[/!]?[ \t]?")
  (#select-adjacent! @doc @definition.constant))

(source_file
  (variable_declaration
    "const"
    (identifier) @name) @definition.constant
  (#not-match? @definition.constant "^(pub[ \t]+)?const[ \t]+[A-Za-z0-9_]+[ \t]*=[ \t]*@(import|This|cImport)[ \t]*\\("))

(source_file
  (variable_declaration
    "var"
    (identifier) @name) @definition.variable)

(struct_declaration
  (comment)+ @doc
  .
  (variable_declaration
    "const"
    (identifier) @name) @definition.constant
  (#not-match? @definition.constant "^(pub[ \t]+)?const[ \t]+[A-Za-z0-9_]+[ \t]*=[ \t]*@(import|This|cImport)[ \t]*\\(")
  (#strip! @doc "^//[/!]?[ \t]?")
  (#select-adjacent! @doc @definition.constant))

(struct_declaration
  (variable_declaration
    "const"
    (identifier) @name) @definition.constant
  (#not-match? @definition.constant "^(pub[ \t]+)?const[ \t]+[A-Za-z0-9_]+[ \t]*=[ \t]*@(import|This|cImport)[ \t]*\\("))

(struct_declaration
  (variable_declaration
    "var"
    (identifier) @name) @definition.variable)

(enum_declaration
  (comment)+ @doc
  .
  (variable_declaration
    "const"
    (identifier) @name) @definition.constant
  (#not-match? @definition.constant "^(pub[ \t]+)?const[ \t]+[A-Za-z0-9_]+[ \t]*=[ \t]*@(import|This|cImport)[ \t]*\\(")
  (#strip! @doc "^//[/!]?[ \t]?")
  (#select-adjacent! @doc @definition.constant))

(enum_declaration
  (variable_declaration
    "const"
    (identifier) @name) @definition.constant
  (#not-match? @definition.constant "^(pub[ \t]+)?const[ \t]+[A-Za-z0-9_]+[ \t]*=[ \t]*@(import|This|cImport)[ \t]*\\("))

(enum_declaration
  (variable_declaration
    "var"
    (identifier) @name) @definition.variable)

(union_declaration
  (comment)+ @doc
  .
  (variable_declaration
    "const"
    (identifier) @name) @definition.constant
  (#not-match? @definition.constant "^(pub[ \t]+)?const[ \t]+[A-Za-z0-9_]+[ \t]*=[ \t]*@(import|This|cImport)[ \t]*\\(")
  (#strip! @doc "^//[/!]?[ \t]?")
  (#select-adjacent! @doc @definition.constant))

(union_declaration
  (variable_declaration
    "const"
    (identifier) @name) @definition.constant
  (#not-match? @definition.constant "^(pub[ \t]+)?const[ \t]+[A-Za-z0-9_]+[ \t]*=[ \t]*@(import|This|cImport)[ \t]*\\("))

(union_declaration
  (variable_declaration
    "var"
    (identifier) @name) @definition.variable)

(opaque_declaration
  (comment)+ @doc
  .
  (variable_declaration
    "const"
    (identifier) @name) @definition.constant
  (#not-match? @definition.constant "^(pub[ \t]+)?const[ \t]+[A-Za-z0-9_]+[ \t]*=[ \t]*@(import|This|cImport)[ \t]*\\(")
  (#strip! @doc "^//[/!]?[ \t]?")
  (#select-adjacent! @doc @definition.constant))

(opaque_declaration
  (variable_declaration
    "const"
    (identifier) @name) @definition.constant
  (#not-match? @definition.constant "^(pub[ \t]+)?const[ \t]+[A-Za-z0-9_]+[ \t]*=[ \t]*@(import|This|cImport)[ \t]*\\("))

(opaque_declaration
  (variable_declaration
    "var"
    (identifier) @name) @definition.variable)

(call_expression
  function: [
    (identifier) @name
    (field_expression
      member: (identifier) @name)
  ]) @reference.call
