// LRU cache template with a small driver, used as a C++ smoke sample.
#include <cstdint>
#include <iostream>
#include <list>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

namespace cache {

template <typename K, typename V>
class LruCache {
public:
    explicit LruCache(std::size_t capacity) : capacity_(capacity) {
        if (capacity == 0) {
            throw std::invalid_argument("capacity must be positive");
        }
    }

    void put(const K& key, V value) {
        if (auto it = index_.find(key); it != index_.end()) {
            it->second->second = std::move(value);
            order_.splice(order_.begin(), order_, it->second);
            return;
        }
        if (order_.size() == capacity_) {
            index_.erase(order_.back().first);
            order_.pop_back();
        }
        order_.emplace_front(key, std::move(value));
        index_[key] = order_.begin();
    }

    std::optional<V> get(const K& key) {
        auto it = index_.find(key);
        if (it == index_.end()) {
            ++misses_;
            return std::nullopt;
        }
        order_.splice(order_.begin(), order_, it->second);
        ++hits_;
        return it->second->second;
    }

    [[nodiscard]] double hit_rate() const noexcept {
        const auto total = hits_ + misses_;
        return total == 0 ? 0.0 : static_cast<double>(hits_) / total;
    }

private:
    using Entry = std::pair<K, V>;
    std::size_t capacity_;
    std::list<Entry> order_;
    std::unordered_map<K, typename std::list<Entry>::iterator> index_;
    std::uint64_t hits_ = 0, misses_ = 0;
};

}  // namespace cache

struct Point {
    int x{0};
    int y{0};
    friend std::ostream& operator<<(std::ostream& os, const Point& p) {
        return os << '(' << p.x << ", " << p.y << ')';
    }
};

int main() {
    cache::LruCache<std::string, Point> lru(2);
    const std::vector<std::string> keys = {"a", "b", "a", "c", "b", "a"};

    int i = 0;
    for (const auto& k : keys) {
        if (auto hit = lru.get(k)) {
            std::cout << "hit  " << k << " -> " << *hit << '\n';
        } else {
            std::cout << "miss " << k << '\n';
            lru.put(k, Point{i, i * 2});
        }
        ++i;
    }

    auto percent = [](double r) { return static_cast<int>(r * 100 + 0.5); };
    std::cout << "hit rate: " << percent(lru.hit_rate()) << "%" << std::endl;

    try {
        cache::LruCache<int, int> broken(0);
    } catch (const std::exception& e) {
        std::cerr << "expected error: " << e.what() << "\n";
    }
    return 0;
}
