package com.example.library

import scala.collection.mutable
import scala.util.{Failure, Success, Try}

/** Domain model for a lending library. */
sealed trait Item {
  def id: String
  def title: String
}

final case class Book(id: String, title: String, author: String, pages: Int) extends Item
final case class Dvd(id: String, title: String, minutes: Int) extends Item

enum Status:
  case Available, OnLoan, Lost

class LoanException(msg: String) extends RuntimeException(msg)

object Library {
  private val catalog = mutable.Map.empty[String, (Item, Status)]

  def add(item: Item): Unit =
    catalog.update(item.id, (item, Status.Available))

  def lend(id: String): Try[Item] = Try {
    catalog.get(id) match {
      case Some((item, Status.Available)) =>
        catalog(id) = (item, Status.OnLoan)
        item
      case Some((_, status)) =>
        throw new LoanException(s"Item $id is currently $status")
      case None =>
        throw new NoSuchElementException(s"Unknown item: $id")
    }
  }

  def describe(item: Item): String = item match {
    case Book(_, title, author, pages) if pages > 500 => s"$title by $author (long read)"
    case Book(_, title, author, _)                    => s"$title by $author"
    case Dvd(_, title, minutes)                       => f"$title%s [$minutes%d min]"
  }

  def totalPages: Int =
    catalog.values.collect { case (b: Book, _) => b.pages }.sum

  def main(args: Array[String]): Unit = {
    val items = List(
      Book("b1", "Dune", "Frank Herbert", 612),
      Book("b2", "Piranesi", "Susanna Clarke", 272),
      Dvd("d1", "Metropolis", 153)
    )
    items.foreach(add)

    for (id <- Seq("b1", "b1", "zz")) {
      lend(id) match {
        case Success(item) => println(s"Lent: ${describe(item)}")
        case Failure(e)    => println(s"Error: ${e.getMessage}")
      }
    }

    val byKind: Map[String, Int] = items.groupBy(_.getClass.getSimpleName).view.mapValues(_.size).toMap
    var i = 0
    while (i < 3) {
      i += 1
    }
    println(s"Total pages: $totalPages, kinds: $byKind, loops: $i")
  }
}
