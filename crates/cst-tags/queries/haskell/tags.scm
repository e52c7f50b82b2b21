; Haskell: the module header (definition.module), top-level functions and
; bindings, one tag per equation (definition.function; `-- |` Haddock above
; the type signature becomes docs), data/newtype/type/type family
; declarations (definition.type), data constructors (definition.constructor),
; record fields (definition.field), type classes (definition.interface) and
; their method signatures (definition.method), instance methods
; (definition.method), instance heads (reference.implementation), pattern
; synonyms (definition.constructor); applied variables (reference.call).

(header
  module: (module) @name) @definition.module

; Docs sit above the signature, which sits right above the first equation:
; `#select-adjacent!` measures from the signature, captured as @local.scope
; only to be named (tree-sitter-tags gives a @local.scope in a tags pattern no
; other meaning).
(
  (haddock)* @doc
  .
  (signature) @local.scope
  .
  [
    (function
      name: (variable) @name)
    (bind
      name: (variable) @name)
  ] @definition.function
  (#strip! @doc "(?m)^[ \t]*--+ *[|^]? ?|\\A\\{-+ *[|^]? ?|\\s*-\\}\\z")
  (#select-adjacent! @doc @local.scope)
)

(declarations
  [
    (function
      name: (variable) @name)
    (bind
      name: (variable) @name)
  ] @definition.function)

(
  (haddock)* @doc
  .
  [
    (data_type
      name: (name) @name)
    (newtype
      name: (name) @name)
    (type_synonym
      name: (name) @name)
    (type_family
      name: (name) @name)
    (data_family
      name: (name) @name)
  ] @definition.type
  (#strip! @doc "(?m)^[ \t]*--+ *[|^]? ?|\\A\\{-+ *[|^]? ?|\\s*-\\}\\z")
  (#select-adjacent! @doc @definition.type)
)

(data_constructor
  constructor: [
    (prefix
      name: (constructor) @name)
    (record
      name: (constructor) @name)
    (infix
      operator: (constructor_operator) @name)
  ]) @definition.constructor

(newtype_constructor
  name: (constructor) @name) @definition.constructor

(gadt_constructor
  name: (constructor) @name) @definition.constructor

(field
  name: (field_name
    (variable) @name)) @definition.field

(
  (haddock)* @doc
  .
  (class
    name: (name) @name) @definition.interface
  (#strip! @doc "(?m)^[ \t]*--+ *[|^]? ?|\\A\\{-+ *[|^]? ?|\\s*-\\}\\z")
  (#select-adjacent! @doc @definition.interface)
)

(class_declarations
  (signature
    name: (variable) @name) @definition.method)

(instance_declarations
  [
    (function
      name: (variable) @name)
    (bind
      name: (variable) @name)
  ] @definition.method)

(instance
  name: [
    (name) @name
    (qualified
      id: (name) @name)
  ]) @reference.implementation

(pattern_synonym
  [
    (signature
      synonym: (constructor) @name)
    (equation
      synonym: [
        (constructor) @name
        (apply function: (constructor) @name)
      ])
  ]) @definition.constructor

(apply
  function: [
    (variable) @name
    (qualified
      id: (variable) @name)
  ]) @reference.call
