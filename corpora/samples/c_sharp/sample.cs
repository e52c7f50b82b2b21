using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;

namespace Smoke.Inventory
{
    public enum Category { Tools, Food, Toys }

    public record Product(string Sku, string Name, decimal Price, Category Category);

    public interface IRepository<T>
    {
        Task<T?> FindAsync(string key);
        IEnumerable<T> All();
    }

    public sealed class ProductRepository : IRepository<Product>
    {
        private readonly Dictionary<string, Product> _items = new();

        public int Count => _items.Count;

        public void Add(Product product)
        {
            if (product is null) throw new ArgumentNullException(nameof(product));
            if (!_items.TryAdd(product.Sku, product))
            {
                throw new InvalidOperationException($"Duplicate SKU '{product.Sku}'");
            }
        }

        public async Task<Product?> FindAsync(string key)
        {
            await Task.Delay(1);
            return _items.TryGetValue(key, out var p) ? p : null;
        }

        public IEnumerable<Product> All() => _items.Values;
    }

    public static class Program
    {
        private static string Describe(Product p) => p switch
        {
            { Price: > 100m } => $"{p.Name} (premium)",
            { Category: Category.Food } => $"{p.Name} (perishable)",
            _ => p.Name,
        };

        public static async Task<int> Main(string[] args)
        {
            var repo = new ProductRepository();
            var seed = new[]
            {
                new Product("T-1", "Hammer", 19.99m, Category.Tools),
                new Product("F-7", "Cheese", 7.5m, Category.Food),
                new Product("T-9", "Drill", 149.00m, Category.Tools),
            };
            foreach (var p in seed)
            {
                repo.Add(p);
            }

            try
            {
                repo.Add(seed[0]);
            }
            catch (InvalidOperationException ex)
            {
                Console.Error.WriteLine("warning: " + ex.Message);
            }

            var byCategory = repo.All()
                .GroupBy(p => p.Category)
                .OrderBy(g => g.Key)
                .Select(g => new { Category = g.Key, Total = g.Sum(p => p.Price) });
            foreach (var group in byCategory)
            {
                Console.WriteLine($"{group.Category,-6} {group.Total,8:F2}");
            }

            var found = await repo.FindAsync(args.Length > 0 ? args[0] : "T-9");
            Console.WriteLine(found is not null ? Describe(found) : "not found");
            return repo.Count == 3 ? 0 : 1;
        }
    }
}
