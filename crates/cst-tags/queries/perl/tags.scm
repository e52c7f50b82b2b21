; Perl: packages (definition.module), subroutines (definition.function; `#`
; comments right above become docs), `use constant` names
; (definition.constant); calls with arguments and method calls
; (reference.call), `use parent`/`use base` classes (reference.implementation).

(package_statement
  (package_name) @name) @definition.module

(
  (comments)* @doc
  .
  (function_definition
    name: (identifier) @name) @definition.function
  (#strip! @doc "^#+[ \t]?")
  (#select-adjacent! @doc @definition.function)
)

(use_constant_statement
  constant: (identifier) @name) @definition.constant

(call_expression_with_args_with_brackets
  (call_expression_with_bareword
    function_name: (identifier) @name)) @reference.call

(call_expression_with_spaced_args
  (call_expression_with_bareword
    function_name: (identifier) @name)) @reference.call

(call_expression_with_sub
  (call_expression_with_bareword
    function_name: (identifier) @name)) @reference.call

(method_invocation
  function_name: (identifier) @name) @reference.call
