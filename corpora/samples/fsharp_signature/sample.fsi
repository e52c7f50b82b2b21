namespace Shop

open System

/// Money amounts in cents.
type Money = int64

/// A product in the catalogue.
type Product =
    { Sku: string
      Name: string
      Price: Money }

type OrderLine = { Product: Product; Quantity: int }

type OrderStatus =
    | Draft
    | Submitted of DateTime
    | Shipped of trackingCode: string
    | Cancelled of reason: string

type Order =
    { Id: Guid
      Lines: OrderLine list
      Status: OrderStatus }

exception InvalidOrder of string

module Orders =

    /// Total of a single order line.
    val lineTotal: line: OrderLine -> Money

    val orderTotal: order: Order -> Money

    val applyDiscount: percent: int -> amount: Money -> Money

    val submit: order: Order -> Result<Order, string>

    val describe: status: OrderStatus -> string

    val tryFind: orders: Order list -> id: Guid -> Order option

    val mapLines: f: (OrderLine -> OrderLine) -> order: Order -> Order

/// Stock levels per SKU.
[<Interface>]
type IInventory =
    abstract Add: sku: string * qty: int -> unit
    abstract Reserve: line: OrderLine -> unit
    abstract member Available: sku: string -> int
    abstract Count: int with get

[<Interface>]
type IRepository<'T> =
    inherit IDisposable
    abstract Load: id: Guid -> 'T option
    abstract Save: item: 'T -> unit
    abstract All: unit -> 'T seq

module Inventory =

    val create: unit -> IInventory

    val fromSeq: items: (string * int) seq -> IInventory
