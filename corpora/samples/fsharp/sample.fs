module Shop.Orders

open System
open System.Collections.Generic

/// Currency amounts are kept in cents to avoid rounding issues.
type Money = int64

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

let lineTotal (line: OrderLine) : Money = line.Product.Price * int64 line.Quantity

let orderTotal order =
    order.Lines |> List.sumBy lineTotal

let applyDiscount percent (amount: Money) =
    if percent < 0 || percent > 100 then
        invalidArg "percent" "must be between 0 and 100"
    amount - amount * int64 percent / 100L

let submit order =
    match order.Status, order.Lines with
    | Draft, [] -> Error "cannot submit an empty order"
    | Draft, _ -> Ok { order with Status = Submitted DateTime.UtcNow }
    | Cancelled reason, _ -> Error(sprintf "order was cancelled: %s" reason)
    | _ -> Error "order already submitted"

let describe status =
    match status with
    | Draft -> "draft"
    | Submitted at -> sprintf "submitted at %O" at
    | Shipped code when code.StartsWith "EX" -> "express: " + code
    | Shipped code -> "shipped: " + code
    | Cancelled _ -> "cancelled"

type Inventory() =
    let stock = Dictionary<string, int>()

    member _.Add(sku: string, qty: int) =
        match stock.TryGetValue sku with
        | true, existing -> stock.[sku] <- existing + qty
        | false, _ -> stock.[sku] <- qty

    member this.Reserve(line: OrderLine) =
        let available = this.Available line.Product.Sku
        if available < line.Quantity then
            raise (InvalidOrder(sprintf "not enough %s" line.Product.Sku))
        stock.[line.Product.Sku] <- available - line.Quantity

    member _.Available sku =
        match stock.TryGetValue sku with
        | true, n -> n
        | _ -> 0

[<EntryPoint>]
let main argv =
    let pen = { Sku = "P-1"; Name = "Pen"; Price = 150L }
    let pad = { Sku = "N-7"; Name = "Notepad"; Price = 425L }
    let order =
        { Id = Guid.NewGuid()
          Lines = [ { Product = pen; Quantity = 3 }; { Product = pad; Quantity = 1 } ]
          Status = Draft }
    let inventory = Inventory()
    inventory.Add("P-1", 10)
    try
        order.Lines |> List.iter inventory.Reserve
    with
    | InvalidOrder msg -> eprintfn "reservation failed: %s" msg
    for i in 1..3 do
        printfn "attempt %d" i
    match submit order with
    | Ok o -> printfn "%s, total %d" (describe o.Status) (orderTotal o |> applyDiscount 10)
    | Error e -> printfn "error: %s" e
    0
