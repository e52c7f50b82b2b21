; TOML: tables `[a.b]` and array-of-tables headers `[[a]]` (definition.module,
; named by the whole header key), keys of key/value pairs, dotted ones
; included (definition.field). No docs: a comment above a header is parsed
; into the table before it.

[
  (table
    .
    [
      (bare_key)
      (quoted_key)
      (dotted_key)
    ] @name)
  (table_array_element
    .
    [
      (bare_key)
      (quoted_key)
      (dotted_key)
    ] @name)
] @definition.module

(pair
  .
  [
    (bare_key)
    (quoted_key)
    (dotted_key)
  ] @name) @definition.field
