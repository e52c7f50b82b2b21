//! A tiny in-memory inventory service used by the smoke tests.

use std::collections::HashMap;
use std::fmt;

/// Errors that can occur while manipulating the inventory.
#[derive(Debug, Clone, PartialEq)]
pub enum InventoryError {
    NotFound(String),
    Insufficient { sku: String, wanted: u32, have: u32 },
}

impl fmt::Display for InventoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InventoryError::NotFound(sku) => write!(f, "unknown sku {sku}"),
            InventoryError::Insufficient { sku, wanted, have } => {
                write!(f, "{sku}: wanted {wanted}, only {have} left")
            }
        }
    }
}

impl std::error::Error for InventoryError {}

#[derive(Debug, Default)]
pub struct Inventory {
    items: HashMap<String, (u32, f64)>,
}

impl Inventory {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn restock(&mut self, sku: &str, qty: u32, price: f64) {
        let entry = self.items.entry(sku.to_owned()).or_insert((0, price));
        entry.0 += qty;
        entry.1 = price;
    }

    pub fn take(&mut self, sku: &str, wanted: u32) -> Result<f64, InventoryError> {
        let (have, price) = self
            .items
            .get_mut(sku)
            .ok_or_else(|| InventoryError::NotFound(sku.to_string()))?;
        if *have < wanted {
            return Err(InventoryError::Insufficient {
                sku: sku.into(),
                wanted,
                have: *have,
            });
        }
        *have -= wanted;
        Ok(f64::from(wanted) * *price)
    }

    pub fn total_value(&self) -> f64 {
        self.items.values().map(|&(q, p)| f64::from(q) * p).sum()
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut inv = Inventory::new();
    let stock = [("apple", 12, 0.5), ("pear", 4, 0.75), ("plum", 30, 0.2)];
    for (sku, qty, price) in stock.iter().copied() {
        inv.restock(sku, qty, price);
    }

    let orders: Vec<(&str, u32)> = vec![("apple", 3), ("pear", 10), ("kiwi", 1)];
    for (sku, n) in &orders {
        match inv.take(sku, *n) {
            Ok(cost) if cost > 1.0 => println!("{sku}: charged {cost:.2}"),
            Ok(cost) => println!("{sku}: small order ({cost:.2})"),
            Err(e) => eprintln!("error: {e}"),
        }
    }

    let mut counter = 0u8;
    while counter < 3 {
        counter += 1;
    }
    println!("remaining value: {:.2} after {} ticks", inv.total_value(), counter);
    Ok(())
}
