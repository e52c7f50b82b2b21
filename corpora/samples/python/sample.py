"""Small log-analysis helper used as a parsing smoke test."""

from __future__ import annotations

import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Optional

LINE_RE = re.compile(r"^(?P<level>[A-Z]+)\s+(?P<module>[\w.]+):\s+(?P<msg>.*)$")
LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40}


@dataclass
class Entry:
    level: str
    module: str
    message: str
    tags: list[str] = field(default_factory=list)

    @property
    def severity(self) -> int:
        return LEVELS.get(self.level, 0)


class ParseError(ValueError):
    """Raised when a line does not look like a log record."""


def parse_line(line: str) -> Entry:
    match = LINE_RE.match(line.strip())
    if match is None:
        raise ParseError(f"cannot parse: {line!r}")
    tags = [w[1:] for w in match["msg"].split() if w.startswith("#")]
    return Entry(match["level"], match["module"], match["msg"], tags)


def summarize(lines: Iterable[str], min_level: str = "INFO") -> dict[str, int]:
    threshold = LEVELS[min_level]
    counts: Counter[str] = Counter()
    bad = 0
    for raw in lines:
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        try:
            entry = parse_line(raw)
        except ParseError as exc:
            bad += 1
            print(exc, file=sys.stderr)
            continue
        if entry.severity >= threshold:
            counts[entry.module] += 1
    counts["<unparsed>"] = bad
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def main(argv: Optional[list[str]] = None) -> int:
    argv = argv if argv is not None else sys.argv[1:]
    sample = [
        "INFO app.server: started on port 8080 #boot",
        "WARNING app.db: slow query took 1.5s",
        "ERROR app.db: connection lost #retry",
        "garbage line",
    ]
    result = summarize(sample, min_level=argv[0] if argv else "INFO")
    width = max((len(k) for k in result), default=0)
    for module, n in result.items():
        print(f"{module:<{width}}  {n:>3}")
    return 0 if result else 1


if __name__ == "__main__":
    raise SystemExit(main())
