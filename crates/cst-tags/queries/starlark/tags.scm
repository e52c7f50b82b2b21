; Starlark (Bazel, Buck, ...): functions (definition.function, docstring as
; docs), top-level `x = rule(...)`, `repository_rule`, `aspect`, `macro` and
; `module_extension` (definition.function), `x = provider(...)`
; (definition.class), other top-level assignments (definition.constant for
; UPPER_CASE names, definition.variable otherwise), targets declared in a
; BUILD file, i.e. top-level calls with a `name = "..."` argument
; (definition.class, named by that string); calls (reference.call).
;
; The target pattern tests the keyword's name. tree-sitter-tags allows only
; its own capture names, so that keyword is captured as @local.scope, which
; it gives no meaning in a tags pattern.

(function_definition
  name: (identifier) @name
  body: (block
    .
    (expression_statement
      (string
        (string_content) @doc))?)) @definition.function

(module
  (expression_statement
    (assignment
      left: (identifier) @name
      right: (call
        function: (identifier))) @definition.function)
  (#match? @definition.function "^[A-Za-z_][A-Za-z0-9_]*[ \t]*=[ \t]*(rule|repository_rule|aspect|macro|module_extension)[ \t]*\\("))

(module
  (expression_statement
    (assignment
      left: (identifier) @name
      right: (call
        function: (identifier))) @definition.class)
  (#match? @definition.class "^[A-Za-z_][A-Za-z0-9_]*[ \t]*=[ \t]*provider[ \t]*\\("))

(module
  (expression_statement
    (assignment
      left: (identifier) @name) @definition.constant)
  (#match? @name "^_*[A-Z][A-Z0-9_]*$"))

(module
  (expression_statement
    (assignment
      left: (identifier) @name) @definition.variable))

(module
  (expression_statement
    (call
      arguments: (argument_list
        (keyword_argument
          name: (identifier) @local.scope
          value: (string
            (string_content) @name)))) @definition.class)
  (#eq? @local.scope "name"))

(call
  function: [
    (identifier) @name
    (attribute
      attribute: (identifier) @name)
  ]) @reference.call
