## Order pricing helpers.
## Written against a deliberately small subset of Nim: straight-line
## procs, let/var/const bindings, calls and arithmetic.

import std/strutils
import std/strformat
from std/math import floorDiv

const TaxPercent = 21
const ShippingFlat = 495
const FreeShippingFrom = 5000
var ordersPriced = 0

type Cents = int

proc subtotal(unitPrice: int, quantity: int): int =
  result = unitPrice * quantity

proc taxFor(amount: int): int =
  let raw = amount * TaxPercent
  return floorDiv(raw, 100)

proc shippingFor(amount: int): int =
  # Orders above the threshold ship free; the caller decides.
  result = ShippingFlat
  discard amount

func formatCents(amount: int): string =
  let euros = floorDiv(amount, 100)
  let cents = amount % 100
  result = "EUR " & intToStr(euros) & "." & intToStr(cents, 2)

proc describeLine(name: string, unitPrice: int, quantity: int): string =
  let total = subtotal(unitPrice, quantity)
  result = name.alignLeft(20) & " x" & intToStr(quantity) & "  " & formatCents(total)

proc priceOrder(customer: string, unitPrice: int, quantity: int): int =
  let base = subtotal(unitPrice, quantity)
  let tax = taxFor(base)
  var total: int = base + tax
  total = total + shippingFor(base)
  ordersPriced = ordersPriced + 1
  echo describeLine(customer, unitPrice, quantity)
  echo "  tax:      " & formatCents(tax)
  echo "  total:    " & formatCents(total)
  return total

proc main() =
  let first = priceOrder("Ada Lovelace", 1250, 3)
  let second = priceOrder(customer: "Grace Hopper", unitPrice: 899, quantity: 7)
  let combined = first + second
  let average = floorDiv(combined, 2)
  echo "orders priced: " & intToStr(ordersPriced)
  echo "combined:      " & formatCents(combined)
  echo "average:       " & formatCents(average)
  echo "hex:           " & toHex(combined, 8)
  echo strutils.repeat("-", 40)

main()
