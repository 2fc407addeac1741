#!/usr/bin/env python3
"""Turns the C++ snippets of README.md and docs/*.md into programs, so that ctest compiles and
runs every one of them (tests/docs/CMakeLists.txt calls this at configure time).

Rules (docs/contributing.md says the same, for authors):
  - A ```cpp block that defines `int main(` is a program of its own.
  - The other ```cpp blocks of one file are one walkthrough program, in file order: their
    `#include` lines go to the top, the rest goes into main() in order, so later blocks may use
    what earlier ones declared (a walkthrough reads that way).
  - An HTML comment `<!-- docs-test: what it is for\n code... -->` (invisible on a rendered
    page) adds hidden code at that point of the walkthrough: set-up a reader does not need to see (loading the sample data
    into `frequency`, `recency`, `T`, ...). Its `#include` lines go to the top too.
  - A ```cpp block preceded by `<!-- docs-test: declarations -->` goes before main() at namespace
    scope (for snippets that define functions or types).
  - A standalone program preceded by `<!-- docs-test: run twice -->` is run twice in the same
    directory (a program that must work again on the store it left behind).
Every program includes tests/docs/docs_support.hpp (helpers for the hidden set-up) and runs in a
fresh working directory.

usage: extract_snippets.py OUT_DIR FILE.md...   (prints one "name|path|runs" line per program)
"""

from __future__ import annotations

import pathlib
import re
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import markdown_snippets  # noqa: E402

MAIN = re.compile(r"\bint\s+main\s*\(")


def blocks(text: str):
    """Yields ("code", lines, "decl" / "twice" / "") and ("hidden", lines, False) items in file
    order, from the one Markdown scanner (markdown_snippets.py)."""
    pending = ""
    for piece in markdown_snippets.scan(text, "cpp", "docs-test:"):
        if piece.kind == "code":
            yield ("code", piece.lines, pending)
            pending = ""
            continue
        content = "\n".join(piece.lines)
        if content.strip() == "declarations":
            pending = "decl"
        elif content.strip() == "run twice":
            pending = "twice"
        else:
            # The text on the docs-test: line itself says what the set-up is for.
            yield ("hidden", ["// (hidden set-up) " + piece.lines[0].strip()] + piece.lines[1:],
                   False)


def split_includes(body):
    includes, rest = [], []
    for line in body:
        (includes if line.lstrip().startswith("#include") else rest).append(line)
    return includes, rest


def program(includes, declarations, body) -> str:
    seen, inc = set(), []
    for line in ['#include "docs_support.hpp"'] + includes:
        key = line.strip()
        if key not in seen:
            seen.add(key)
            inc.append(key)
    out = inc + [""] + declarations
    if body is not None:
        out += ["", "int main() {", "  try {"]
        out += ["    " + line if line else "" for line in body]
        out += ["  } catch (const std::exception& e) {",
                '    std::fprintf(stderr, "docs snippet failed: %s\\n", e.what());',
                "    return 1;", "  }", "  return 0;", "}"]
    return "\n".join(out) + "\n"


def main() -> int:
    out_dir = pathlib.Path(sys.argv[1])
    out_dir.mkdir(parents=True, exist_ok=True)
    written: set[pathlib.Path] = set()

    def write(target: pathlib.Path, text: str) -> None:
        # Rewrite only what changed, so a re-configure does not rebuild every docs program.
        written.add(target)
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")

    for name in sys.argv[2:]:
        path = pathlib.Path(name)
        stem = re.sub(r"[^A-Za-z0-9]+", "_", path.stem).strip("_").lower()
        includes, declarations, body = [], [], []
        has_walkthrough = False
        standalone = 0
        for kind, lines, decl in blocks(path.read_text(encoding="utf-8")):
            if kind == "code" and any(MAIN.search(l) for l in lines):
                standalone += 1
                inc, rest = split_includes(lines)
                target = out_dir / f"{stem}_main{standalone}.cpp"
                write(target, f"// Extracted from {path.name} (standalone program {standalone}).\n"
                      + program(inc, rest, None))
                runs = 2 if decl == "twice" else 1
                print(f"docs_{stem}_main{standalone}|{target}|{runs}")
                continue
            inc, rest = split_includes(lines)
            includes += inc
            if kind == "code" and decl == "decl":
                declarations += rest + [""]
            else:
                if kind == "code":
                    has_walkthrough = True
                body += rest + [""]
        if has_walkthrough:
            target = out_dir / f"{stem}_walkthrough.cpp"
            write(target, f"// Extracted from {path.name}: its snippets in order.\n"
                  + program(includes, declarations, body))
            print(f"docs_{stem}_walkthrough|{target}|1")
    for stale in set(out_dir.glob("*.cpp")) - written:
        stale.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
