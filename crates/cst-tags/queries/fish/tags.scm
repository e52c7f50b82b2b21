; fish: functions (definition.function; the `--description`/`-d` text, or
; else the `#` comments right above, become docs), aliases made with `alias`
; (definition.function), variables set by `set` at the top level of a file
; (definition.variable); commands (reference.call).
;
; Some patterns test a neighbour of the named node. tree-sitter-tags allows
; only its own capture names, so such a neighbour is captured as
; @local.scope, which it gives no meaning in a tags pattern.

(
  (function_definition
    name: (word) @name
    option: (word) @local.scope
    .
    option: [
      (single_quote_string)
      (double_quote_string)
    ] @doc) @definition.function
  (#any-of? @local.scope "--description" "-d")
  (#strip! @doc "^['\"]|['\"]$")
)

(
  (comment)* @doc
  .
  (function_definition
    name: (word) @name) @definition.function
  (#strip! @doc "^#+[ \t]?")
  (#select-adjacent! @doc @definition.function)
)

(command
  name: (word) @local.scope
  .
  argument: (word) @name
  (#eq? @local.scope "alias")) @definition.function

(program
  (command
    name: (word) @local.scope
    .
    argument: (word) @name
    (#eq? @local.scope "set")
    (#not-match? @name "^-")) @definition.variable)

(program
  (command
    name: (word) @local.scope
    .
    argument: (word) @local.scope
    .
    argument: (word) @name
    (#match? @local.scope "^(set|-.*)$")
    (#not-match? @name "^-")) @definition.variable)

(program
  (command
    name: (word) @local.scope
    .
    argument: (word) @local.scope
    .
    argument: (word) @local.scope
    .
    argument: (word) @name
    (#match? @local.scope "^(set|-.*)$")
    (#not-match? @name "^-")) @definition.variable)

(command
  name: (word) @name) @reference.call
