; CMake: functions (definition.function), macros (definition.macro),
; `project()` (definition.module), targets made by `add_library`,
; `add_executable` and `add_custom_target` (definition.class), variables set
; with `set()` or `option()` (definition.variable); command invocations
; (reference.call), `${VAR}` uses (reference.variable). `#` comments right
; above a function or macro become its docs.

(
  (line_comment)* @doc
  .
  (function_def
    (function_command
      (argument_list
        .
        (argument
          (unquoted_argument) @name)))) @definition.function
  (#strip! @doc "^#+[ \t]?")
  (#select-adjacent! @doc @definition.function)
)

(
  (line_comment)* @doc
  .
  (macro_def
    (macro_command
      (argument_list
        .
        (argument
          (unquoted_argument) @name)))) @definition.macro
  (#strip! @doc "^#+[ \t]?")
  (#select-adjacent! @doc @definition.macro)
)

(
  (normal_command
    (identifier)
    (argument_list
      .
      (argument
        (unquoted_argument) @name))) @definition.module
  (#not-match? @name "\\$")
  (#match? @definition.module "^(?i:project)[ \t]*\\(")
)

(
  (normal_command
    (identifier)
    (argument_list
      .
      (argument
        (unquoted_argument) @name))) @definition.class
  (#not-match? @name "\\$")
  (#match? @definition.class "^(?i:add_library|add_executable|add_custom_target)[ \t]*\\(")
)

(
  (normal_command
    (identifier)
    (argument_list
      .
      (argument
        (unquoted_argument) @name))) @definition.variable
  (#not-match? @name "\\$")
  (#match? @definition.variable "^(?i:set|option)[ \t]*\\(")
)

(normal_command
  (identifier) @name) @reference.call

(variable_ref
  [
    (normal_var (variable) @name)
    (cache_var (variable) @name)
  ]
  (#not-match? @name "\\$")) @reference.variable
