; Bash: functions (definition.function, with the `#` comments just above as
; docs), top-level variables (definition.variable; `readonly` ones as
; definition.constant) and commands (reference.call).

(
  (comment)* @doc
  .
  (function_definition
    name: (word) @name) @definition.function
  (#strip! @doc "^#+[ \t]?")
  (#select-adjacent! @doc @definition.function)
)

(program
  (declaration_command
    "readonly"
    [
      (variable_assignment name: (variable_name) @name)
      (variable_name) @name
    ]) @definition.constant)

(program
  (declaration_command
    [
      (variable_assignment name: (variable_name) @name)
      (variable_name) @name
    ]) @definition.variable)

(program
  (variable_assignment
    name: (variable_name) @name) @definition.variable)

(command
  name: (command_name (word) @name)) @reference.call
