; Protocol Buffers: packages (definition.module), messages and groups
; (definition.class), enums (definition.enum) and their values
; (definition.constant), services (definition.interface), rpcs
; (definition.method), fields, map fields and oneofs (definition.field);
; message and enum types used (reference.type), extended messages
; (reference.class). Comments right above a definition become its docs.

(package
  (full_ident) @name) @definition.module

(
  (comment)* @doc
  .
  (message
    (message_name) @name) @definition.class
  (#strip! @doc "(?m)\\A//+[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
  (#select-adjacent! @doc @definition.class)
)

(
  (comment)* @doc
  .
  (group
    (message_name) @name) @definition.class
  (#strip! @doc "(?m)\\A//+[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
  (#select-adjacent! @doc @definition.class)
)

(
  (comment)* @doc
  .
  (enum
    (enum_name) @name) @definition.enum
  (#strip! @doc "(?m)\\A//+[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
  (#select-adjacent! @doc @definition.enum)
)

(
  (comment)* @doc
  .
  (enum_field
    .
    (identifier) @name) @definition.constant
  (#strip! @doc "(?m)\\A//+[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
  (#select-adjacent! @doc @definition.constant)
)

(
  (comment)* @doc
  .
  (service
    (service_name) @name) @definition.interface
  (#strip! @doc "(?m)\\A//+[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
  (#select-adjacent! @doc @definition.interface)
)

(
  (comment)* @doc
  .
  (rpc
    (rpc_name) @name) @definition.method
  (#strip! @doc "(?m)\\A//+[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
  (#select-adjacent! @doc @definition.method)
)

(
  (comment)* @doc
  .
  [
    (field
      (identifier) @name)
    (map_field
      (identifier) @name)
    (oneof_field
      (identifier) @name)
    (oneof
      (identifier) @name)
  ] @definition.field
  (#strip! @doc "(?m)\\A//+[ \t]?|\\A/\\*+[ \t]*\n?|\\s*\\*+/\\z|^[ \t]*\\*+[ \t]?")
  (#select-adjacent! @doc @definition.field)
)

(message_or_enum_type
  (identifier) @name .) @reference.type

(extend
  (full_ident
    (identifier) @name .)) @reference.class
