; CSS: class selectors (definition.class), id selectors (definition.field),
; custom properties `--x: ...` (definition.constant), @keyframes
; (definition.function); `var(--x)` uses (reference.constant).

(class_selector
  (class_name) @name) @definition.class

(id_selector
  (id_name) @name) @definition.field

(declaration
  (property_name) @name
  (#match? @name "^--")) @definition.constant

(keyframes_statement
  (keyframes_name) @name) @definition.function

(call_expression
  (function_name)
  (arguments
    .
    (plain_value) @name
    (#match? @name "^--"))) @reference.constant
