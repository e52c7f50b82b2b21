; SCSS: mixins (definition.macro), @functions (definition.function),
; top-level `$variables` (definition.variable), class selectors
; (definition.class; `&__suffix` parts of a parent selector excluded),
; placeholder selectors `%x` (definition.class), id selectors
; (definition.field), custom properties `--x: ...` (definition.constant),
; @keyframes (definition.function); `@include` (reference.call), function
; calls (reference.call), `@extend` (reference.class), `var(--x)`
; (reference.constant). Comments right above a mixin, function or top-level
; variable become its docs (SassDoc's `///` included).

(
  [(js_comment) (comment)]* @doc
  .
  (mixin_statement
    name: (identifier) @name) @definition.macro
  (#strip! @doc "(?m)\\A//+[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
  (#select-adjacent! @doc @definition.macro)
)

(
  [(js_comment) (comment)]* @doc
  .
  (function_statement
    name: (identifier) @name) @definition.function
  (#strip! @doc "(?m)\\A//+[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
  (#select-adjacent! @doc @definition.function)
)

(stylesheet
  [(js_comment) (comment)]+ @doc
  .
  (declaration
    (property_name) @name
    (#match? @name "^\\$")) @definition.variable
  (#strip! @doc "(?m)\\A//+[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
  (#select-adjacent! @doc @definition.variable))

(stylesheet
  (declaration
    (property_name) @name
    (#match? @name "^\\$")) @definition.variable)

(declaration
  (property_name) @name
  (#match? @name "^--")) @definition.constant

; `@extend .x` refers to a class; claimed before the definition pattern.
(extend_statement
  (class_selector
    (class_name) @name)) @reference.class

(class_selector
  "."
  (class_name) @name) @definition.class

(placeholder
  (identifier) @name) @definition.class

(id_selector
  (id_name) @name) @definition.field

(keyframes_statement
  (keyframes_name) @name) @definition.function

(include_statement
  (identifier) @name) @reference.call

(call_expression
  (function_name) @name) @reference.call

(call_expression
  (function_name)
  (arguments
    .
    (plain_value) @name
    (#match? @name "^--"))) @reference.constant
