; GraphQL: object and input types (definition.class), interfaces
; (definition.interface), enums (definition.enum) and their values
; (definition.constant), unions and scalars (definition.type), directives
; (definition.macro), fields and input fields (definition.field), named
; operations and fragments (definition.function); implemented interfaces
; (reference.implementation), other named types (reference.type), type
; extensions (reference.class), fragment spreads (reference.call).
; Descriptions (`"""..."""`) become docs.

(object_type_definition
  (description)? @doc
  .
  (name) @name
  (#strip! @doc "^\"+[ \t]*\n?|\n?[ \t]*\"+$")) @definition.class

(input_object_type_definition
  (description)? @doc
  .
  (name) @name
  (#strip! @doc "^\"+[ \t]*\n?|\n?[ \t]*\"+$")) @definition.class

(interface_type_definition
  (description)? @doc
  .
  (name) @name
  (#strip! @doc "^\"+[ \t]*\n?|\n?[ \t]*\"+$")) @definition.interface

(enum_type_definition
  (description)? @doc
  .
  (name) @name
  (#strip! @doc "^\"+[ \t]*\n?|\n?[ \t]*\"+$")) @definition.enum

(union_type_definition
  (description)? @doc
  .
  (name) @name
  (#strip! @doc "^\"+[ \t]*\n?|\n?[ \t]*\"+$")) @definition.type

(scalar_type_definition
  (description)? @doc
  .
  (name) @name
  (#strip! @doc "^\"+[ \t]*\n?|\n?[ \t]*\"+$")) @definition.type

(directive_definition
  (description)? @doc
  .
  (name) @name
  (#strip! @doc "^\"+[ \t]*\n?|\n?[ \t]*\"+$")) @definition.macro

(enum_value_definition
  (description)? @doc
  .
  (enum_value
    (name) @name)
  (#strip! @doc "^\"+[ \t]*\n?|\n?[ \t]*\"+$")) @definition.constant

(fields_definition
  (field_definition
    (description)? @doc
    .
    (name) @name
    (#strip! @doc "^\"+[ \t]*\n?|\n?[ \t]*\"+$")) @definition.field)

(input_fields_definition
  (input_value_definition
    (description)? @doc
    .
    (name) @name
    (#strip! @doc "^\"+[ \t]*\n?|\n?[ \t]*\"+$")) @definition.field)

(operation_definition
  (name) @name) @definition.function

(fragment_definition
  (fragment_name
    (name) @name)) @definition.function

[
  (object_type_extension
    (name) @name)
  (interface_type_extension
    (name) @name)
  (input_object_type_extension
    (name) @name)
  (enum_type_extension
    (name) @name)
  (union_type_extension
    (name) @name)
  (scalar_type_extension
    (name) @name)
] @reference.class

(implements_interfaces
  (named_type
    (name) @name) @reference.implementation)

(named_type
  (name) @name) @reference.type

(fragment_spread
  (fragment_name
    (name) @name)) @reference.call
