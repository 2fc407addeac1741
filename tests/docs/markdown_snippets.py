"""Reads the code snippets of a Markdown document: the one scanner behind the docs tests of both
languages (tests/docs/extract_snippets.py for C++, tests/python/test_docs_snippets.py for
Python). Rules for authors: docs/contributing.md."""

from __future__ import annotations

import re
from typing import Iterator, NamedTuple


class Piece(NamedTuple):
    kind: str          # "code": a fenced block; "hidden": an HTML comment with its marker
    lines: list[str]   # code: the block's lines, its fence's indentation removed;
                       # hidden: the comment's text after the marker (first line = description)
    line: int          # 1-based line of the block's first code line, or of the comment


def scan(text: str, language: str, marker: str) -> Iterator[Piece]:
    """Yields the ```<language> blocks and the <!-- <marker>: ... --> comments of `text` in file
    order. A marker matches exactly ("docs-test:" does not match "docs-test-py:")."""
    fence = re.compile(r"^(\s*)```" + re.escape(language) + r"\s*$")
    hidden = re.compile(r"<!--\s*" + re.escape(marker) + r"(.*?)-->", re.S)
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        m = fence.match(line)
        if m:
            indent = len(m.group(1))
            start = i + 1
            body = []
            i += 1
            while i < len(lines) and lines[i].strip() != "```":
                body.append(lines[i][indent:] if lines[i][:indent].strip() == "" else lines[i])
                i += 1
            yield Piece("code", body, start + 1)
            i += 1
            continue
        if "<!--" in line and marker in line:
            j = i
            chunk = line
            while "-->" not in chunk and j + 1 < len(lines):
                j += 1
                chunk += "\n" + lines[j]
            hm = hidden.search(chunk)
            if hm is None:
                raise ValueError(f"line {i + 1}: unterminated {marker} comment")
            yield Piece("hidden", hm.group(1).splitlines() or [""], i + 1)
            i = j + 1
            continue
        i += 1
