# frozen_string_literal: true

require "json"
require "set"

# A tiny library catalogue used as a Ruby smoke sample.
module Catalogue
  class NotAvailable < StandardError; end

  Book = Struct.new(:isbn, :title, :author, :year, keyword_init: true) do
    def to_s
      "#{title} by #{author} (#{year})"
    end
  end

  class Library
    include Enumerable

    attr_reader :name

    def initialize(name, books = [])
      @name = name
      @books = books.to_h { |b| [b.isbn, b] }
      @loans = Set.new
    end

    def each(&block)
      @books.each_value(&block)
    end

    def lend(isbn)
      book = @books.fetch(isbn) { raise NotAvailable, "unknown isbn #{isbn}" }
      raise NotAvailable, "#{book.title} is already out" if @loans.include?(isbn)

      @loans << isbn
      book
    end

    def available
      reject { |b| @loans.include?(b.isbn) }
    end

    def by_decade
      group_by { |b| (b.year / 10) * 10 }.sort.to_h
    end
  end
end

books = [
  Catalogue::Book.new(isbn: "111", title: "Dune", author: "Herbert", year: 1965),
  Catalogue::Book.new(isbn: "222", title: "Neuromancer", author: "Gibson", year: 1984),
  Catalogue::Book.new(isbn: "333", title: "Hyperion", author: "Simmons", year: 1989),
]
lib = Catalogue::Library.new("Branch #1", books)

%w[111 111 999].each do |isbn|
  begin
    puts "lent: #{lib.lend(isbn)}"
  rescue Catalogue::NotAvailable => e
    warn "cannot lend: #{e.message}"
  end
end

lib.by_decade.each do |decade, list|
  case decade
  when 1960...1970 then label = :sixties
  when 1980..1989 then label = :eighties
  else label = :other
  end
  printf("%-9s %d book(s)\n", label, list.size)
end

summary = { library: lib.name, available: lib.available.map(&:title), ratio: 1.0 / 3 }
puts JSON.pretty_generate(summary) unless summary.empty?
