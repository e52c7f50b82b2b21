; HCL (Terraform and the like): `resource` and `data` blocks (definition.class,
; named by their last label), `module` (definition.module), `variable`
; (definition.variable), `output` (definition.field), attributes of `locals`
; (definition.constant), other top-level blocks with labels but `provider`
; (definition.class, named by the last label); `var.x` (reference.variable),
; `local.x` (reference.constant), `module.x` (reference.module), function
; calls (reference.call). Comments right above a block become its docs.
;
; Some patterns test a neighbour of the named node. tree-sitter-tags allows
; only its own capture names, so such a neighbour is captured as
; @local.scope, which it gives no meaning in a tags pattern.

(
  (comment)* @doc
  .
  (block
    (identifier)
    (string_lit)
    (string_lit
      (template_literal) @name)) @definition.class
  (#match? @definition.class "^(resource|data)[ \t]")
  (#strip! @doc "(?m)\\A(#|//+)[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
  (#select-adjacent! @doc @definition.class)
)

(
  (comment)* @doc
  .
  (block
    (identifier)
    (string_lit
      (template_literal) @name)) @definition.module
  (#match? @definition.module "^module[ \t]")
  (#strip! @doc "(?m)\\A(#|//+)[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
  (#select-adjacent! @doc @definition.module)
)

(
  (comment)* @doc
  .
  (block
    (identifier)
    (string_lit
      (template_literal) @name)) @definition.variable
  (#match? @definition.variable "^variable[ \t]")
  (#strip! @doc "(?m)\\A(#|//+)[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
  (#select-adjacent! @doc @definition.variable)
)

(
  (comment)* @doc
  .
  (block
    (identifier)
    (string_lit
      (template_literal) @name)) @definition.field
  (#match? @definition.field "^output[ \t]")
  (#strip! @doc "(?m)\\A(#|//+)[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
  (#select-adjacent! @doc @definition.field)
)

(block
  (identifier) @local.scope
  (body
    (attribute
      (identifier) @name) @definition.constant)
  (#eq? @local.scope "locals"))

; Any other labelled top-level block: the last label names it.
(config_file
  (body
    (comment)+ @doc
    .
    (block
      (string_lit
        (template_literal) @name)
      .
      (block_start)) @definition.class
    (#not-match? @definition.class "^provider[ \t]")
    (#strip! @doc "(?m)\\A(#|//+)[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
    (#select-adjacent! @doc @definition.class)))

(config_file
  (body
    (block
      (string_lit
        (template_literal) @name)
      .
      (block_start)) @definition.class
    (#not-match? @definition.class "^provider[ \t]")))

(
  (variable_expr
    (identifier) @local.scope)
  .
  (get_attr
    (identifier) @name) @reference.variable
  (#eq? @local.scope "var")
)

(
  (variable_expr
    (identifier) @local.scope)
  .
  (get_attr
    (identifier) @name) @reference.constant
  (#eq? @local.scope "local")
)

(
  (variable_expr
    (identifier) @local.scope)
  .
  (get_attr
    (identifier) @name) @reference.module
  (#eq? @local.scope "module")
)

(function_call
  (identifier) @name) @reference.call
