//// Inventory tracking for a small warehouse.

import gleam/dict.{type Dict}
import gleam/int
import gleam/io
import gleam/list
import gleam/result
import gleam/string

/// A single stock keeping unit.
pub type Item {
  Item(sku: String, name: String, quantity: Int, price_cents: Int)
}

pub type InventoryError {
  NotFound(sku: String)
  InsufficientStock(sku: String, requested: Int, available: Int)
  InvalidQuantity(Int)
}

pub type Inventory =
  Dict(String, Item)

pub fn new() -> Inventory {
  dict.new()
}

pub fn add(inventory: Inventory, item: Item) -> Inventory {
  case dict.get(inventory, item.sku) {
    Ok(existing) ->
      dict.insert(
        inventory,
        item.sku,
        Item(..existing, quantity: existing.quantity + item.quantity),
      )
    Error(Nil) -> dict.insert(inventory, item.sku, item)
  }
}

pub fn remove(
  inventory: Inventory,
  sku: String,
  amount: Int,
) -> Result(Inventory, InventoryError) {
  use item <- result.try(
    dict.get(inventory, sku)
    |> result.replace_error(NotFound(sku)),
  )
  case amount {
    n if n <= 0 -> Error(InvalidQuantity(n))
    n if n > item.quantity ->
      Error(InsufficientStock(sku, n, item.quantity))
    n -> Ok(dict.insert(inventory, sku, Item(..item, quantity: item.quantity - n)))
  }
}

pub fn total_value(inventory: Inventory) -> Int {
  inventory
  |> dict.values
  |> list.fold(0, fn(acc, item) { acc + item.quantity * item.price_cents })
}

fn describe_error(error: InventoryError) -> String {
  case error {
    NotFound(sku) -> "unknown sku " <> sku
    InsufficientStock(sku, requested, available) ->
      string.concat([
        "cannot take ", int.to_string(requested), " of ", sku,
        ", only ", int.to_string(available), " left",
      ])
    InvalidQuantity(n) -> "invalid quantity: " <> int.to_string(n)
  }
}

pub fn main() {
  let stock =
    new()
    |> add(Item("A-100", "Bolt", 250, 12))
    |> add(Item("B-220", "Hinge", 40, 350))
    |> add(Item(sku: "A-100", name: "Bolt", quantity: 50, price_cents: 12))

  let #(label, cents) = #("total", total_value(stock))
  io.println(label <> ": " <> int.to_string(cents))

  case remove(stock, "B-220", 100) {
    Ok(_) -> io.println("removed")
    Error(e) -> io.println(describe_error(e))
  }
}
