<?php

declare(strict_types=1);

namespace App\Billing;

use InvalidArgumentException;
use JsonSerializable;

interface Discount
{
    public function apply(float $amount): float;
}

enum Currency: string
{
    case EUR = 'eur';
    case USD = 'usd';

    public function symbol(): string
    {
        return match ($this) {
            Currency::EUR => '€',
            Currency::USD => '$',
        };
    }
}

final class PercentOff implements Discount
{
    public function __construct(private readonly float $percent)
    {
        if ($percent < 0 || $percent > 100) {
            throw new InvalidArgumentException("Bad percent: {$percent}");
        }
    }

    public function apply(float $amount): float
    {
        return round($amount * (1 - $this->percent / 100), 2);
    }
}

class Invoice implements JsonSerializable
{
    /** @var array<int, array{name: string, qty: int, price: float}> */
    private array $lines = [];

    public function __construct(
        public readonly string $customer,
        private Currency $currency = Currency::EUR,
        private ?Discount $discount = null,
    ) {
    }

    public function add(string $name, int $qty, float $price): static
    {
        $this->lines[] = ['name' => $name, 'qty' => $qty, 'price' => $price];
        return $this;
    }

    public function total(): float
    {
        $sum = array_reduce($this->lines, fn ($carry, $l) => $carry + $l['qty'] * $l['price'], 0.0);
        return $this->discount?->apply($sum) ?? $sum;
    }

    public function jsonSerialize(): mixed
    {
        return [
            'customer' => $this->customer,
            'lines' => count($this->lines),
            'total' => sprintf('%s%.2f', $this->currency->symbol(), $this->total()),
        ];
    }
}

$invoice = (new Invoice('ACME Corp', Currency::USD, new PercentOff(10)))
    ->add('Widget', 3, 9.99)
    ->add('Gadget', 1, 24.50);

foreach (['ok' => 10, 'bad' => 150] as $label => $pct) {
    try {
        $d = new PercentOff($pct);
        echo "{$label}: ", $d->apply(100.0), PHP_EOL;
    } catch (InvalidArgumentException $e) {
        echo 'error: ' . $e->getMessage() . "\n";
    }
}

echo json_encode($invoice, JSON_PRETTY_PRINT), "\n";
?>
<p>Generated at <?= date('Y-m-d') ?></p>
