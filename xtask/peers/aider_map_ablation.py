"""aider's ranking with its quirks turned off one at a time, against cst's.

    python aider_map_ablation.py ROOT CST_MAP.json [--files LIST]

CST_MAP.json is `cst map ROOT --tokens 16384 --json` (enough files for a
top 20). For each variant of aider's `get_ranked_tags` (its source, patched
as text) prints how many of its top-20 files (in order of their first
definition) are in cst's top 20, and the files that differ. The quirks:

- sqrt_once: aider reassigns `num_refs = math.sqrt(num_refs)` inside its
  loop over a name's definers, so the n-th definer of a name gets the
  2^n-th root of the count; cst weighs every definer sqrt(count);
- no_dup_node: aider appends the last node of each capture list once more
  (`captures_by_tag[tag].append(node)` after the loop), an extra reference
  or definition per file and capture name; which node is last is not the
  same from run to run;
- no_backfill: a file with definitions and no references gets every
  Pygments `Name` token as a reference in aider; cst has no backfill;
- ties_ascending: aider sorts equal ranks by (file, name) descending, cst
  by file then name ascending.

Tags are computed afresh into an in-memory cache (aider's on-disk cache is
neither read nor filled).
Run with PYTHONHASHSEED=0 for repeatable set orders.
"""

import argparse
import inspect
import json
import os
import sys
import textwrap

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import aider.repomap as R  # noqa: E402
import aider_map as am  # noqa: E402
from aider.repomap import RepoMap  # noqa: E402

TOP = 20


def compile_method(src, name):
    ns = {}
    exec(src, vars(R), ns)
    return ns[name]


def patched(sqrt_once, no_dup_node, no_backfill, ties_ascending):
    rank = textwrap.dedent(inspect.getsource(RepoMap.get_ranked_tags))
    raw = textwrap.dedent(inspect.getsource(RepoMap.get_tags_raw))

    def sub(src, old, new):
        assert old in src, old
        return src.replace(old, new)

    if sqrt_once:
        rank = sub(rank, "num_refs = math.sqrt(num_refs)", "pass")
        rank = sub(rank, "weight=use_mul * num_refs", "weight=use_mul * math.sqrt(num_refs)")
    if ties_ascending:
        rank = sub(
            rank,
            "ranked_definitions.items(), reverse=True, key=lambda x: (x[1], x[0])",
            "ranked_definitions.items(), key=lambda x: (-x[1], x[0])",
        )
    if no_dup_node:
        raw = sub(
            raw,
            "        captures_by_tag[tag].append(node)\n        matches.append((node, tag))",
            "        matches.append((node, tag))",
        )
    if no_backfill:
        raw = sub(raw, '    if "ref" in saw:\n        return', "    return")
    return compile_method(rank, "get_ranked_tags"), compile_method(raw, "get_tags_raw")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("cst_json")
    ap.add_argument("--files")
    args = ap.parse_args()
    root = os.path.abspath(args.root)
    if args.files:
        with open(args.files) as f:
            files = [os.path.join(root, line.rstrip("\n")) for line in f if line.strip()]
    else:
        files = am.source_files(root)
    with open(args.cst_json) as f:
        cst = [x["path"] for x in json.load(f)["files"]][:TOP]
    names = ["sqrt_once", "no_dup_node", "no_backfill", "ties_ascending"]
    variants = [(0, 0, 0, 0), (1, 0, 0, 0), (0, 1, 0, 0), (0, 0, 1, 0), (0, 0, 0, 1)]
    variants += [(1, 1, 0, 0), (1, 1, 1, 0), (1, 1, 1, 1)]
    for flags in variants:
        rank, raw = patched(*flags)
        rm = am.new_map(root, 1024)
        rm.TAGS_CACHE = dict()
        rm.get_ranked_tags = rank.__get__(rm)
        rm.get_tags_raw = raw.__get__(rm)
        top = [x["path"] for x in am.files_of(rm.get_ranked_tags([], files, set(), set()), rm)][:TOP]
        on = [n for n, f in zip(names, flags) if f] or ["aider as released"]
        print(
            f"{'+'.join(on)}: {len(set(top) & set(cst))} of {TOP} agree; "
            f"aider only {[p for p in top if p not in cst]}; cst only {[p for p in cst if p not in top]}"
        )


if __name__ == "__main__":
    main()
