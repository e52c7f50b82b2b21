; HTML: `id` attributes (definition.field, named by the id); single-class
; `class` attributes (reference.class). The tag spans the attribute.

(
  (attribute
    (attribute_name)
    [
      (attribute_value) @name
      (quoted_attribute_value (attribute_value) @name)
    ]) @definition.field
  (#match? @definition.field "^[iI][dD][ \t\r\n]*=")
)

(
  (attribute
    (attribute_name)
    [
      (attribute_value) @name
      (quoted_attribute_value (attribute_value) @name)
    ]) @reference.class
  (#match? @reference.class "^[cC][lL][aA][sS][sS][ \t\r\n]*=")
  (#match? @name "^[^ \t\r\n]+$")
)
