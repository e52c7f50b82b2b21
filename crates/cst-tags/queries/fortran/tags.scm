; Fortran: programs, modules and submodules (definition.module), functions
; and subroutines, those declared in interface blocks included
; (definition.function), named interfaces (definition.interface), derived
; types (definition.class) and their components (definition.field), module
; `parameter` constants (definition.constant) and other module variables
; (definition.variable), enumerators (definition.constant); `call`
; statements (reference.call; function calls are left out, as the syntax does
; not tell them from array references), derived types used
; (reference.class), modules used (reference.module). `!` comments right
; above a definition become its docs.

(
  (comment)* @doc
  .
  [
    (program
      (program_statement
        (name) @name))
    (module
      (module_statement
        (name) @name))
    (submodule
      (submodule_statement
        (name) @name))
  ] @definition.module
  (#strip! @doc "^![!>< \t]*")
  (#select-adjacent! @doc @definition.module)
)

(
  (comment)* @doc
  .
  [
    (function
      (function_statement
        name: (name) @name))
    (subroutine
      (subroutine_statement
        name: (name) @name))
    (module_procedure
      (module_procedure_statement
        (name) @name))
  ] @definition.function
  (#strip! @doc "^![!>< \t]*")
  (#select-adjacent! @doc @definition.function)
)

(
  (comment)* @doc
  .
  (interface
    (interface_statement
      (name) @name)) @definition.interface
  (#strip! @doc "^![!>< \t]*")
  (#select-adjacent! @doc @definition.interface)
)

(
  (comment)* @doc
  .
  (derived_type_definition
    (derived_type_statement
      (type_name) @name)) @definition.class
  (#strip! @doc "^![!>< \t]*")
  (#select-adjacent! @doc @definition.class)
)

(derived_type_definition
  (variable_declaration
    declarator: [
      (identifier) @name
      (sized_declarator
        .
        (identifier) @name)
      (init_declarator
        left: [
          (identifier) @name
          (sized_declarator
            .
            (identifier) @name)
        ])
    ]) @definition.field)

(
  (module
    (variable_declaration
      declarator: (init_declarator
        left: (identifier) @name)) @definition.constant)
  (#match? @definition.constant "(?i)^[^:]*[ \t,]parameter[ \t,:]")
)

(module
  (variable_declaration
    declarator: [
      (identifier) @name
      (sized_declarator
        .
        (identifier) @name)
      (init_declarator
        left: [
          (identifier) @name
          (sized_declarator
            .
            (identifier) @name)
        ])
    ]) @definition.variable)

(enumerator_statement
  declarator: [
    (identifier) @name
    (init_declarator
      left: (identifier) @name)
  ]) @definition.constant

(subroutine_call
  subroutine: (identifier) @name) @reference.call

(derived_type
  name: (type_name) @name) @reference.class

(use_statement
  (module_name) @name) @reference.module
