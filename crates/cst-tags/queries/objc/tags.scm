; Objective-C: @interface and @implementation (definition.class),
; @protocol (definition.interface), methods declared or defined
; (definition.method, named by the selector's first part), @property
; (definition.field), C functions (definition.function), typedefs
; (definition.type), named structs (definition.class) and enums
; (definition.enum), enumerators (definition.constant), #define
; (definition.macro); message sends and calls (reference.call), superclasses
; (reference.class), adopted protocols (reference.implementation). Comments
; right above a definition become its docs.

(
  (comment)* @doc
  .
  [
    (class_interface
      .
      (identifier) @name)
    (class_implementation
      .
      (identifier) @name)
  ] @definition.class
  (#strip! @doc "(?m)\\A//+[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
  (#select-adjacent! @doc @definition.class)
)

(
  (comment)* @doc
  .
  (protocol_declaration
    .
    (identifier) @name) @definition.interface
  (#strip! @doc "(?m)\\A//+[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
  (#select-adjacent! @doc @definition.interface)
)

(
  (comment)* @doc
  .
  [
    (method_declaration
      (method_type)
      .
      (identifier) @name)
    (method_definition
      (method_type)
      .
      (identifier) @name)
  ] @definition.method
  (#strip! @doc "(?m)\\A//+[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
  (#select-adjacent! @doc @definition.method)
)

(
  (comment)* @doc
  .
  (property_declaration
    (struct_declaration
      (struct_declarator
        [
          (identifier) @name
          (pointer_declarator
            declarator: (identifier) @name)
          (function_declarator
            declarator: (parenthesized_declarator
              (block_pointer_declarator
                declarator: (identifier) @name)))
        ]))) @definition.field
  (#strip! @doc "(?m)\\A//+[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
  (#select-adjacent! @doc @definition.field)
)

(
  (comment)* @doc
  .
  (function_definition
    declarator: [
      (function_declarator
        declarator: (identifier) @name)
      (pointer_declarator
        declarator: (function_declarator
          declarator: (identifier) @name))
    ]) @definition.function
  (#strip! @doc "(?m)\\A//+[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
  (#select-adjacent! @doc @definition.function)
)

(
  (comment)* @doc
  .
  (type_definition
    declarator: (type_identifier) @name) @definition.type
  (#strip! @doc "(?m)\\A//+[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
  (#select-adjacent! @doc @definition.type)
)

(struct_specifier
  name: (type_identifier) @name
  body: (_)) @definition.class

(enum_specifier
  name: (type_identifier) @name
  body: (_)) @definition.enum

(enumerator
  name: (identifier) @name) @definition.constant

(preproc_def
  name: (identifier) @name) @definition.macro

(preproc_function_def
  name: (identifier) @name) @definition.macro

(message_expression
  receiver: (_)
  .
  method: (identifier) @name) @reference.call

(call_expression
  function: (identifier) @name) @reference.call

[
  (class_interface
    superclass: (identifier) @name)
  (class_implementation
    superclass: (identifier) @name)
] @reference.class

(protocol_reference_list
  (identifier) @name) @reference.implementation
