const std = @import("std");
const Allocator = std.mem.Allocator;

/// Errors that inventory operations can return.
pub const InventoryError = error{
    OutOfCapacity,
    UnknownItem,
};

pub const Status = enum {
    in_stock,
    low,
    empty,
};

pub const Item = struct {
    name: []const u8,
    quantity: u32 = 0,
    price: f64,

    pub fn status(self: Item) Status {
        if (self.quantity == 0) return .empty;
        if (self.quantity < 10) return .low;
        return .in_stock;
    }
};

pub const Inventory = struct {
    items: std.ArrayList(Item),
    capacity: usize,

    pub fn init(allocator: Allocator, capacity: usize) Inventory {
        return .{
            .items = std.ArrayList(Item).init(allocator),
            .capacity = capacity,
        };
    }

    pub fn deinit(self: *Inventory) void {
        self.items.deinit();
    }

    pub fn add(self: *Inventory, item: Item) !void {
        if (self.items.items.len >= self.capacity) {
            return InventoryError.OutOfCapacity;
        }
        try self.items.append(item);
    }

    pub fn totalValue(self: Inventory) f64 {
        var total: f64 = 0.0;
        for (self.items.items) |item| {
            total += @as(f64, @floatFromInt(item.quantity)) * item.price;
        }
        return total;
    }
};

pub fn main() !void {
    var gpa = std.heap.GeneralPurposeAllocator(.{}){};
    defer _ = gpa.deinit();

    var inv = Inventory.init(gpa.allocator(), 3);
    defer inv.deinit();

    try inv.add(.{ .name = "bolt", .quantity = 120, .price = 0.25 });
    try inv.add(.{ .name = "hinge", .quantity = 4, .price = 3.5 });

    inv.add(.{ .name = "x", .price = 1.0 }) catch |err| {
        std.debug.print("failed: {}\n", .{err});
    };

    var i: usize = 0;
    while (i < inv.items.items.len) : (i += 1) {
        const item = inv.items.items[i];
        const label = switch (item.status()) {
            .in_stock => "ok",
            .low => "low",
            .empty => "empty",
        };
        std.debug.print("{s}: {d} ({s})\n", .{ item.name, item.quantity, label });
    }
    std.debug.print("total = {d:.2}\n", .{inv.totalValue()});
}

test "status thresholds" {
    const it = Item{ .name = "a", .quantity = 5, .price = 1 };
    try std.testing.expect(it.status() == .low);
}
