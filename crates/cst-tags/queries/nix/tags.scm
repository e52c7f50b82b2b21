; Nix: bindings to functions (definition.function, named by the attribute
; path; `#` comments right above become docs), other `let` bindings
; (definition.variable), other attribute-set bindings (definition.field);
; applied functions (reference.call).

(
  (comment)* @doc
  .
  (binding
    attrpath: (attrpath) @name
    expression: (function_expression)) @definition.function
  (#strip! @doc "(?m)\\A#+[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
  (#select-adjacent! @doc @definition.function)
)

(let_expression
  (binding_set
    binding: (binding
      attrpath: (attrpath) @name) @definition.variable))

[
  (attrset_expression
    (binding_set
      binding: (binding
        attrpath: (attrpath) @name) @definition.field))
  (rec_attrset_expression
    (binding_set
      binding: (binding
        attrpath: (attrpath) @name) @definition.field))
  (let_attrset_expression
    (binding_set
      binding: (binding
        attrpath: (attrpath) @name) @definition.field))
]

(apply_expression
  function: [
    (variable_expression
      name: (identifier) @name)
    (select_expression
      attrpath: (attrpath
        attr: (identifier) @name .))
  ]) @reference.call
