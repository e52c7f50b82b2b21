package com.example.smoke;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Collectors;

/** A toy bank ledger used as a Java smoke sample. */
public final class Ledger {

    public enum Kind { DEPOSIT, WITHDRAWAL, FEE }

    public record Entry(String account, Kind kind, long cents) {
        public Entry {
            if (cents < 0) {
                throw new IllegalArgumentException("negative amount: " + cents);
            }
        }
    }

    public static class InsufficientFundsException extends Exception {
        public InsufficientFundsException(String account, long balance) {
            super(String.format("%s has only %d.%02d", account, balance / 100, balance % 100));
        }
    }

    private final List<Entry> entries = new ArrayList<>();
    private static final long OVERDRAFT_FEE = 2_500L;

    public long balance(String account) {
        long total = 0;
        for (Entry e : entries) {
            if (!e.account().equals(account)) continue;
            total += switch (e.kind()) {
                case DEPOSIT -> e.cents();
                case WITHDRAWAL, FEE -> -e.cents();
            };
        }
        return total;
    }

    public void record(Entry entry) throws InsufficientFundsException {
        if (entry.kind() == Kind.WITHDRAWAL && balance(entry.account()) < entry.cents()) {
            entries.add(new Entry(entry.account(), Kind.FEE, OVERDRAFT_FEE));
            throw new InsufficientFundsException(entry.account(), balance(entry.account()));
        }
        entries.add(entry);
    }

    public Map<String, Long> summary() {
        return entries.stream()
                .map(Entry::account)
                .distinct()
                .collect(Collectors.toMap(a -> a, this::balance, (x, y) -> x, TreeMap::new));
    }

    public Optional<Entry> largest() {
        return entries.stream().max((a, b) -> Long.compare(a.cents(), b.cents()));
    }

    public static void main(String[] args) {
        Ledger ledger = new Ledger();
        String[][] script = {
            {"alice", "DEPOSIT", "10000"},
            {"bob", "DEPOSIT", "500"},
            {"bob", "WITHDRAWAL", "1200"},
            {"alice", "WITHDRAWAL", "2550"},
        };
        for (String[] row : script) {
            try {
                ledger.record(new Entry(row[0], Kind.valueOf(row[1]), Long.parseLong(row[2])));
            } catch (InsufficientFundsException ex) {
                System.err.println("rejected: " + ex.getMessage());
            }
        }
        ledger.summary().forEach((acct, cents) -> System.out.printf("%-6s %8.2f%n", acct, cents / 100.0));
        ledger.largest().ifPresent(e -> System.out.println("largest: " + e));
        char marker = args.length > 0 ? args[0].charAt(0) : '*';
        System.out.println(marker + " done");
    }
}
