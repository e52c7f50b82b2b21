"""aider's repo map on a directory, timed, for `cargo xtask compare`.

    python aider_map.py ROOT TOKENS OUT.json [--files LIST] [--runs N]

Runs aider's `RepoMap.get_ranked_tags_map` (the function that uses exactly
the budget given: `get_repo_map` multiplies it by `map_mul_no_files` when no
file is in the chat) on the files of ROOT (or the newline-separated paths in
LIST), no chat files, no mentions, and writes JSON:

- `cold_seconds`: the map with no tags cache (`ROOT/.aider.tags.cache.v*`
  deleted first; every file parsed and tagged);
- `warm_seconds`: best of N maps by a fresh `RepoMap` with the cache present
  (what a new aider session pays);
- `session_seconds`: best of N maps again by the last of those `RepoMap`s
  (what each message of a session pays: files parsed for the rendering are
  kept in memory);
- `map_files`: the files of the map in rank order (first appearance in the
  ranked prefix that the map shows, not the map's alphabetical order), each
  with the definitions shown (`line` from 1);
- `ranked_files`: every file in order of its first definition in
  `get_ranked_tags` (beyond what fits the budget), with its definitions;
- `pagerank`: the files' PageRank, best first; `tags`: counts, and the files
  whose references aider backfilled with Pygments (defs but no refs).

The model is a stand-in whose `token_count` is characters / 4 rounded up
(cst's estimate), so nothing downloads a tokenizer and both tools fit the
same budget; `io` is a stand-in that reads UTF-8 text and prints messages to
stderr.
"""

import argparse
import glob
import json
import math
import os
import shutil
import sys
import time

t_import = time.perf_counter()
import networkx  # noqa: E402
from aider import __version__ as aider_version  # noqa: E402
from aider.repomap import RepoMap, Tag  # noqa: E402

import_seconds = time.perf_counter() - t_import


class Model:
    """What RepoMap asks of `main_model`: a token count."""

    def token_count(self, text):
        if not isinstance(text, str):
            text = json.dumps(text)
        return math.ceil(len(text) / 4)


class IO:
    """What RepoMap asks of `io` (aider's InputOutput without a terminal)."""

    encoding = "utf-8"

    def tool_output(self, *args, **kwargs):
        print(*args, file=sys.stderr)

    def tool_warning(self, *args, **kwargs):
        print("warning:", *args, file=sys.stderr)

    def tool_error(self, *args, **kwargs):
        print("error:", *args, file=sys.stderr)

    def read_text(self, filename, silent=False):
        try:
            with open(str(filename), "r", encoding=self.encoding) as f:
                return f.read()
        except (OSError, UnicodeError) as e:
            if not silent:
                self.tool_error(f"{filename}: {e}")
            return None


def source_files(root):
    """Regular files under root, hidden directories and `target` skipped."""
    out = []
    for d, dirs, files in os.walk(root):
        dirs[:] = sorted(x for x in dirs if not x.startswith(".") and x != "target")
        for f in sorted(files):
            p = os.path.join(d, f)
            if os.path.isfile(p) and not os.path.islink(p):
                out.append(p)
    return out


def new_map(root, tokens):
    return RepoMap(map_tokens=tokens, root=root, main_model=Model(), io=IO(), refresh="always")


def files_of(tags, rm):
    """Files in order of their first definition among `tags`, with their
    definitions (first line of each name, from 1), and the files listed
    without definitions after them."""
    order, defs, seen = [], {}, {}
    for t in tags:
        if isinstance(t, Tag):
            if t.rel_fname not in defs:
                order.append(t.rel_fname)
                defs[t.rel_fname] = []
                seen[t.rel_fname] = {}
            s = seen[t.rel_fname]
            if t.name not in s:
                s[t.name] = len(defs[t.rel_fname])
                defs[t.rel_fname].append({"name": t.name, "line": t.line + 1})
            else:
                d = defs[t.rel_fname][s[t.name]]
                d["line"] = min(d["line"], t.line + 1)
        else:
            fname = t[0]
            if fname not in defs:
                order.append(fname)
                defs[fname] = []
                seen[fname] = {}
    return [{"path": p, "definitions": defs[p]} for p in order]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("tokens", type=int)
    ap.add_argument("out")
    ap.add_argument("--files", help="newline-separated paths (absolute or relative to ROOT)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--top", type=int, default=100, help="ranked files kept in the JSON")
    args = ap.parse_args()
    root = os.path.abspath(args.root)
    if args.files:
        with open(args.files) as f:
            files = [os.path.join(root, line.rstrip("\n")) for line in f if line.strip()]
    else:
        files = source_files(root)

    # Cold: no tags cache.
    for d in glob.glob(os.path.join(root, ".aider.tags.cache.v*")):
        shutil.rmtree(d)
    t = time.perf_counter()
    rm = new_map(root, args.tokens)
    cold_text = rm.get_ranked_tags_map([], files, args.tokens)
    cold = time.perf_counter() - t

    # Warm: a new RepoMap (no in-memory caches), the tags cache on disk.
    warm_runs = []
    for _ in range(max(1, args.runs)):
        t = time.perf_counter()
        rm = new_map(root, args.tokens)
        text = rm.get_ranked_tags_map([], files, args.tokens)
        warm_runs.append(time.perf_counter() - t)

    # The same RepoMap again (aider's cost per message within a session:
    # parsed files for the rendering kept in memory).
    session_runs = []
    for _ in range(max(1, args.runs)):
        t = time.perf_counter()
        rm.get_ranked_tags_map([], files, args.tokens)
        session_runs.append(time.perf_counter() - t)

    # Once more, instrumented: which prefix of the ranked tags the map shows,
    # and the PageRank.
    rm = new_map(root, args.tokens)
    tried = []
    to_tree = rm.to_tree

    def recording_to_tree(tags, chat_rel_fnames):
        out = to_tree(tags, chat_rel_fnames)
        tried.append((list(tags), out))
        return out

    rm.to_tree = recording_to_tree
    pageranks = []
    pagerank = networkx.pagerank

    def recording_pagerank(*a, **kw):
        r = pagerank(*a, **kw)
        pageranks.append(r)
        return r

    networkx.pagerank = recording_pagerank
    text = rm.get_ranked_tags_map([], files, args.tokens)
    shown = next((tags for tags, out in tried if out == text), [])
    ranked = rm.get_ranked_tags([], files, set(), set())
    networkx.pagerank = pagerank

    # Tag counts (from the warm cache).
    defs = refs = backfilled = 0
    backfilled_files = []
    tagged = 0
    for fname in files:
        rel = rm.get_rel_fname(fname)
        tags = list(rm.get_tags(fname, rel)) if os.path.isfile(fname) else []
        if tags:
            tagged += 1
        d = sum(1 for t in tags if t.kind == "def")
        r = sum(1 for t in tags if t.kind == "ref")
        b = sum(1 for t in tags if t.kind == "ref" and t.line == -1)
        defs += d
        refs += r
        if b:
            backfilled += b
            backfilled_files.append(rel)

    ranked_files = files_of(ranked, rm)
    pr = sorted(pageranks[-1].items(), key=lambda kv: -kv[1]) if pageranks else []
    result = {
        "aider_version": aider_version,
        "python": sys.version.split()[0],
        "networkx": networkx.__version__,
        "pythonhashseed": os.environ.get("PYTHONHASHSEED"),
        "root": root,
        "files_given": len(files),
        "tokens": args.tokens,
        "import_seconds": import_seconds,
        "cold_seconds": cold,
        "warm_seconds": min(warm_runs),
        "warm_runs": warm_runs,
        "session_seconds": min(session_runs),
        "map_chars": len(text or ""),
        "map_tokens": Model().token_count(text or ""),
        "cold_map_equal": cold_text == text,
        "map_files": files_of(shown, rm),
        "ranked_files": ranked_files[: args.top],
        "ranked_files_total": len(ranked_files),
        "pagerank": [{"path": p, "rank": r} for p, r in pr[: args.top]],
        "graph_nodes": len(pageranks[-1]) if pageranks else 0,
        "tags": {
            "files_with_tags": tagged,
            "definitions": defs,
            "references": refs,
            "backfilled_references": backfilled,
            "backfilled_files": backfilled_files,
        },
        "text": text,
    }
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    print(
        f"aider {aider_version}: cold {cold:.3f} s, warm {min(warm_runs):.3f} s, "
        f"{len(result['map_files'])} files in the map",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
