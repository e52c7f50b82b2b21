import Foundation

/// Errors that can occur while working with a shopping cart.
enum CartError: Error, CustomStringConvertible {
    case outOfStock(sku: String)
    case invalidQuantity(Int)
    case emptyCart

    var description: String {
        switch self {
        case .outOfStock(let sku):
            return "Item \(sku) is out of stock"
        case .invalidQuantity(let q):
            return "Invalid quantity: \(q)"
        case .emptyCart:
            return "The cart is empty"
        }
    }
}

protocol Priced {
    var unitPrice: Decimal { get }
}

struct Product: Priced, Hashable {
    let sku: String
    let name: String
    let unitPrice: Decimal
    var tags: Set<String> = []
}

final class Cart {
    private(set) var lines: [Product: Int] = [:]
    private let inventory: [String: Int]
    var discount: Double = 0.0 {
        didSet { discount = min(max(discount, 0), 0.5) }
    }

    init(inventory: [String: Int]) {
        self.inventory = inventory
    }

    func add(_ product: Product, quantity: Int = 1) throws {
        guard quantity > 0 else { throw CartError.invalidQuantity(quantity) }
        let available = inventory[product.sku, default: 0]
        let current = lines[product] ?? 0
        if current + quantity > available {
            throw CartError.outOfStock(sku: product.sku)
        }
        lines[product, default: 0] += quantity
    }

    var total: Decimal {
        let gross = lines.reduce(Decimal(0)) { acc, entry in
            acc + entry.key.unitPrice * Decimal(entry.value)
        }
        return gross * Decimal(1.0 - discount)
    }
}

extension Cart {
    func receipt() throws -> String {
        guard !lines.isEmpty else { throw CartError.emptyCart }
        var out = ""
        for (product, qty) in lines.sorted(by: { $0.key.name < $1.key.name }) {
            out += "\(product.name) x\(qty)\n"
        }
        return out + "Total: \(total)"
    }
}

let apple = Product(sku: "A-1", name: "Apple", unitPrice: 0.5, tags: ["fruit"])
let bread = Product(sku: "B-7", name: "Bread", unitPrice: 2.25)
let cart = Cart(inventory: ["A-1": 10, "B-7": 1])
cart.discount = 0.1

do {
    try cart.add(apple, quantity: 4)
    try cart.add(bread)
    try cart.add(bread)
} catch let error as CartError {
    print("Cart error: \(error)")
} catch {
    print("Unexpected: \(error)")
}

if let text = try? cart.receipt() {
    print(text)
}
