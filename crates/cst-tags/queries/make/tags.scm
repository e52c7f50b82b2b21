; Make: rule targets (definition.function; special targets such as `.PHONY`
; excluded), variables set with `=`, `:=`, `::=`, `?=` or `!=`
; (definition.variable; `+=` only appends), `define` blocks
; (definition.macro); `$(VAR)` uses (reference.variable). `#` comments
; right above a rule, variable or define become its docs.

(
  (comment)* @doc
  .
  (rule
    (targets
      (word) @name)) @definition.function
  (#not-match? @name "^\\.[A-Z_]+$")
  (#strip! @doc "^#+[ \t]?")
  (#select-adjacent! @doc @definition.function)
)

(
  (comment)* @doc
  .
  (variable_assignment
    name: (word) @name
    operator: ["=" ":=" "::=" "?="]) @definition.variable
  (#strip! @doc "^#+[ \t]?")
  (#select-adjacent! @doc @definition.variable)
)

(
  (comment)* @doc
  .
  (shell_assignment
    name: (word) @name) @definition.variable
  (#strip! @doc "^#+[ \t]?")
  (#select-adjacent! @doc @definition.variable)
)

(
  (comment)* @doc
  .
  (define_directive
    name: (word) @name) @definition.macro
  (#strip! @doc "^#+[ \t]?")
  (#select-adjacent! @doc @definition.macro)
)

(variable_reference
  (word) @name) @reference.variable
