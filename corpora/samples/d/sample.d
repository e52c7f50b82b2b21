/**
 * Word frequency counter with a small ranking API.
 */
module wordfreq;

import std.stdio;
import std.string : toLower, strip;
import std.algorithm : sort, splitter, filter;
import std.array : array;
import std.conv : to;
import std.exception : enforce;

enum SortOrder { byCount, byWord }

struct Entry
{
    string word;
    size_t count;

    string toString() const
    {
        return word ~ ": " ~ count.to!string;
    }
}

class FrequencyTable
{
    private size_t[string] counts;
    private immutable size_t minLength;

    this(size_t minLength = 2)
    {
        this.minLength = minLength;
    }

    void feed(string text)
    {
        foreach (raw; text.splitter(' '))
        {
            auto w = raw.strip.toLower;
            if (w.length < minLength)
                continue;
            counts[w]++;
        }
    }

    Entry[] top(size_t n, SortOrder order = SortOrder.byCount)
    {
        enforce(n > 0, "n must be positive");
        Entry[] entries;
        foreach (word, count; counts)
            entries ~= Entry(word, count);

        final switch (order)
        {
            case SortOrder.byCount:
                entries.sort!((a, b) => a.count > b.count);
                break;
            case SortOrder.byWord:
                entries.sort!((a, b) => a.word < b.word);
                break;
        }
        return entries.length > n ? entries[0 .. n] : entries;
    }
}

unittest
{
    auto t = new FrequencyTable();
    t.feed("the cat and the hat");
    assert(t.top(1)[0].word == "the");
}

void main(string[] args)
{
    auto table = new FrequencyTable(3);
    string[] lines = [
        "It was the best of times",
        "it was the worst of times",
        "it was the age of wisdom",
    ];
    foreach (i, line; lines)
    {
        table.feed(line);
        writefln("fed line %d (%s chars)", i + 1, line.length);
    }

    try
    {
        foreach (e; table.top(5))
            writeln(e);
        table.top(0);
    }
    catch (Exception ex)
    {
        stderr.writeln("error: ", ex.msg);
    }

    double ratio = 3.0 / 4;
    auto evens = [1, 2, 3, 4, 5, 6].filter!(x => x % 2 == 0).array;
    writefln("ratio=%.2f evens=%s", ratio, evens);
}
