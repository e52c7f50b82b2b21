package com.example.reports

import groovy.json.JsonSlurper
import java.time.LocalDate

// Builds a monthly sales report from a JSON export.
class Sale {
    String region;
    String product;
    BigDecimal amount;
    LocalDate date;

    String toString() {
        return "${date} ${region}/${product}: ${amount}"
    }
}

class ReportBuilder {
    private final List<Sale> sales = [];
    int minAmount = 0;

    ReportBuilder load(String json) {
        def data = new JsonSlurper().parseText(json)
        data.sales.each { row ->
            sales.add(new Sale(
                region: row.region,
                product: row.product,
                amount: new BigDecimal(row.amount.toString()),
                date: LocalDate.parse(row.date)
            ))
        }
        return this
    }

    Map<String, BigDecimal> totalsByRegion() {
        Map<String, BigDecimal> totals = new LinkedHashMap<String, BigDecimal>()
        for (Sale s in sales) {
            if (s.amount >= minAmount) {
                totals[s.region] = totals.getOrDefault(s.region, 0) + s.amount
            }
        }
        return totals
    }

    List<Sale> topSales(int n = 3) {
        return sales.sort(false) { it.amount }.reverse().take(n)
    }
}

def json = '''
{
  "sales": [
    {"region": "north", "product": "kettle", "amount": 49.99, "date": "2024-03-02"},
    {"region": "south", "product": "toaster", "amount": 29.50, "date": "2024-03-05"},
    {"region": "north", "product": "blender", "amount": 89.00, "date": "2024-03-09"}
  ]
}
'''

def builder = new ReportBuilder(minAmount: 10)
try {
    builder.load(json)
} catch (Exception e) {
    println("failed to load: ${e.message}")
    System.exit(1)
}

builder.totalsByRegion().each { entry ->
    println(String.format('%-8s %10.2f', entry.key, entry.value))
}

def top = builder.topSales(2)
for (int i = 0; i < top.size(); i++) {
    println("#${i + 1} ${top[i]}")
}

def label(BigDecimal amount) {
    switch (amount) {
        case 50..1000:
            return 'large'
        case 20..50:
            return 'medium'
        default:
            return 'small'
    }
}

assert label(75.0) == 'large';
println(top.collect { label(it.amount) }.join(', '))
println "report finished"
