; YAML: mapping keys, block and flow (definition.field; the `<<` merge key
; excluded), anchors `&x` (definition.variable); aliases `*x`
; (reference.variable).

(block_mapping_pair
  key: (flow_node
    [
      (plain_scalar) @name
      (double_quote_scalar) @name
      (single_quote_scalar) @name
    ])
  (#not-eq? @name "<<")) @definition.field

(flow_pair
  key: (flow_node
    [
      (plain_scalar) @name
      (double_quote_scalar) @name
      (single_quote_scalar) @name
    ])
  (#not-eq? @name "<<")) @definition.field

(anchor
  (anchor_name) @name) @definition.variable

(alias
  (alias_name) @name) @reference.variable
