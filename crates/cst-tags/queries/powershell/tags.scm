; PowerShell: functions and filters (definition.function), classes
; (definition.class) with their methods and constructors (definition.method)
; and properties (definition.field), enums (definition.enum) and their
; members (definition.constant), variables assigned at the top level of a
; script (definition.variable); commands and method calls (reference.call).
; `#` or `<# ... #>` comments right above a function or class become docs.

(
  (comment)* @doc
  .
  (function_statement
    (function_name) @name) @definition.function
  (#strip! @doc "(?m)\\A<#[ \t]*\n?|[ \t\n]*#>\\z|^[ \t]*#+[ \t]?")
  (#select-adjacent! @doc @definition.function)
)

(
  (comment)* @doc
  .
  (class_statement
    .
    (simple_name) @name) @definition.class
  (#strip! @doc "(?m)\\A<#[ \t]*\n?|[ \t\n]*#>\\z|^[ \t]*#+[ \t]?")
  (#select-adjacent! @doc @definition.class)
)

(class_method_definition
  (simple_name) @name) @definition.method

(class_property_definition
  (variable) @name) @definition.field

(enum_statement
  .
  (simple_name) @name) @definition.enum

(enum_member
  (simple_name) @name) @definition.constant

(program
  (statement_list
    (pipeline
      (assignment_expression
        (left_assignment_expression
          (logical_expression
            (bitwise_expression
              (comparison_expression
                (additive_expression
                  (multiplicative_expression
                    (format_expression
                      (range_expression
                        (array_literal_expression
                          (unary_expression
                            (variable) @name))))))))))) @definition.variable)))

(command
  command_name: (command_name) @name) @reference.call

(invokation_expression
  (member_name
    (simple_name) @name)) @reference.call
