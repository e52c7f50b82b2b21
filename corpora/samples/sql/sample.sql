-- Schema and queries for the inventory database
CREATE TABLE warehouses (
    id INTEGER PRIMARY KEY,
    code VARCHAR(8) NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE items (
    id INTEGER PRIMARY KEY,
    sku VARCHAR(32) NOT NULL,
    warehouse_id INTEGER NOT NULL REFERENCES warehouses (id),
    quantity INTEGER NOT NULL DEFAULT 0,
    price NUMERIC(10, 2) NOT NULL
);

CREATE INDEX idx_items_sku ON items (sku);

INSERT INTO warehouses (id, code, name)
VALUES
    (1, 'N01', 'North'),
    (2, 'S02', 'South');

INSERT INTO items (id, sku, warehouse_id, quantity, price)
VALUES
    (10, 'A-1', 1, 120, 0.25),
    (11, 'B-2', 1, 4, 3.50),
    (12, 'C-3', 2, 0, 7.00);

/* Stock value per warehouse, only non-empty ones */
SELECT
    w.name,
    COUNT(i.id) AS item_count,
    SUM(i.quantity * i.price) AS total_value
FROM warehouses AS w
LEFT JOIN items AS i ON i.warehouse_id = w.id
WHERE i.quantity > 0
GROUP BY w.name
HAVING SUM(i.quantity) > 10
ORDER BY total_value DESC
LIMIT 10;

SELECT
    sku,
    CASE
        WHEN quantity = 0 THEN 'empty'
        WHEN quantity < 10 THEN 'low'
        ELSE 'in_stock'
    END AS status
FROM items
WHERE sku LIKE 'A%' OR price BETWEEN 1 AND 5;

UPDATE items
SET quantity = quantity - 1
WHERE sku = 'A-1' AND quantity > 0;

DELETE FROM items
WHERE warehouse_id IN (SELECT id FROM warehouses WHERE code = 'S02');

ALTER TABLE items ADD COLUMN discontinued BOOLEAN DEFAULT FALSE;

DROP INDEX idx_items_sku;
