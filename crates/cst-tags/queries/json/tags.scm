; JSON: the key of every object member (definition.field, named by the key's
; text without quotes).

(pair
  key: (string
    (string_content) @name)) @definition.field
