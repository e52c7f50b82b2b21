import 'dart:async';
import 'dart:math' as math;

/// Possible states of a stock item.
enum Status { inStock, low, empty }

class Item {
  final String sku;
  final String name;
  int quantity;
  final double price;

  Item(this.sku, this.name, {this.quantity = 0, required this.price});

  Status get status {
    if (quantity <= 0) {
      return Status.empty;
    } else if (quantity < 10) {
      return Status.low;
    }
    return Status.inStock;
  }

  @override
  String toString() => '$name ($sku): $quantity @ \$${price.toStringAsFixed(2)}';
}

class CapacityException implements Exception {
  final String message;
  const CapacityException(this.message);
}

abstract class Repository<T> {
  Future<void> save(T value);
  T? find(String key);
}

class Inventory implements Repository<Item> {
  final Map<String, Item> _items = {};
  final int capacity;

  Inventory({this.capacity = 100});

  @override
  Future<void> save(Item item) async {
    if (_items.length >= capacity) {
      throw CapacityException('inventory full: $capacity');
    }
    await Future.delayed(const Duration(milliseconds: 10));
    _items[item.sku] = item;
  }

  @override
  Item? find(String key) => _items[key];

  double get totalValue =>
      _items.values.fold(0.0, (sum, i) => sum + i.quantity * i.price);

  Iterable<Item> lowStock() sync* {
    for (final item in _items.values) {
      if (item.status == Status.low) yield item;
    }
  }
}

Future<void> main(List<String> args) async {
  final inventory = Inventory(capacity: 2);
  final items = <Item>[
    Item('A-1', 'Bolt', quantity: 120, price: 0.25),
    Item('B-2', 'Hinge', quantity: 4, price: 3.5),
    Item('C-3', 'Latch', price: 7.0),
  ];

  for (var item in items) {
    try {
      await inventory.save(item);
    } on CapacityException catch (e) {
      print('skipped ${item.sku}: ${e.message}');
    }
  }

  var label = switch (inventory.find('B-2')?.status) {
    Status.low => 'low',
    Status.empty => 'empty',
    _ => 'fine',
  };
  print('B-2 is $label');
  print('total: ${inventory.totalValue}, max: ${math.max(3, 7)}');
  inventory.lowStock().forEach(print);
}
