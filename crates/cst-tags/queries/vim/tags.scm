; Vim script: functions (definition.function, named as called, `s:` or
; `g:` scope and `#` autoload path included; `"` comments right above become
; docs), user commands from `:command` (definition.macro), augroups
; (definition.module), script-level `let` (definition.variable) and `const`
; (definition.constant); function calls (reference.call).

(
  (comment)* @doc
  .
  (function_definition
    (function_declaration
      name: (_) @name)) @definition.function
  (#strip! @doc "^\"[ \t]?")
  (#select-adjacent! @doc @definition.function)
)

(command_statement
  name: (command_name) @name) @definition.macro

(augroup_statement
  (augroup_name) @name
  (#not-match? @name "^[Ee][Nn][Dd]$")) @definition.module

(script_file
  (let_statement
    .
    [
      (identifier) @name
      (scoped_identifier) @name
    ]) @definition.variable)

(script_file
  (const_statement
    .
    [
      (identifier) @name
      (scoped_identifier) @name
    ]) @definition.constant)

(call_expression
  function: [
    (identifier) @name
    (scoped_identifier) @name
  ]) @reference.call
