package com.example.inventory

import java.time.Instant
import kotlin.math.max

/** Status of a stock item. */
enum class Status { IN_STOCK, LOW, OUT_OF_STOCK }

data class Item(val sku: String, val name: String, var quantity: Int = 0) {
    val status: Status
        get() = when {
            quantity <= 0 -> Status.OUT_OF_STOCK
            quantity < 10 -> Status.LOW
            else -> Status.IN_STOCK
        }
}

sealed class Result<out T> {
    data class Ok<T>(val value: T) : Result<T>()
    data class Err(val message: String) : Result<Nothing>()
}

interface Repository<K, V> {
    fun find(key: K): V?
    fun save(value: V)
}

class InMemoryRepository : Repository<String, Item> {
    private val items = mutableMapOf<String, Item>()

    override fun find(key: String): Item? = items[key]

    override fun save(value: Item) {
        items[value.sku] = value
    }

    fun all(): List<Item> = items.values.sortedBy { it.name }
}

class InventoryService(private val repo: InMemoryRepository) {
    private var lastUpdate: Instant? = null

    fun adjust(sku: String, delta: Int): Result<Item> {
        val item = repo.find(sku) ?: return Result.Err("unknown sku: $sku")
        item.quantity = max(0, item.quantity + delta)
        repo.save(item)
        lastUpdate = Instant.now()
        return Result.Ok(item)
    }

    fun summary(): String = buildString {
        for ((index, item) in repo.all().withIndex()) {
            append("${index + 1}. ${item.name} (${item.quantity}) ${item.status}\n")
        }
    }
}

fun main(args: Array<String>) {
    val repo = InMemoryRepository()
    listOf(
        Item("A-1", "Bolt", 120),
        Item("B-2", "Washer", 4),
        Item("C-3", "Hinge"),
    ).forEach(repo::save)

    val service = InventoryService(repo)
    when (val result = service.adjust("B-2", -10)) {
        is Result.Ok -> println("updated ${result.value.sku}")
        is Result.Err -> println("error: ${result.message}")
    }

    try {
        val ratio = 3.5 / args.size
        println("ratio=$ratio")
    } catch (e: ArithmeticException) {
        println("no args")
    } finally {
        print(service.summary())
    }
}
