"""Every ```python block of docs/*.md runs (README.md's is run by test_readme.py).

A document's Python blocks form one walkthrough program, in file order, so a later block may use
what an earlier one defined. An HTML comment `<!-- docs-test-py: what it is for\\ncode... -->`
(invisible on a rendered page) adds hidden code at that point: set-up a reader does not need to
see, or asserts that check a result shown in a comment. The program runs in a fresh namespace, in
a fresh empty working directory, with matplotlib on the Agg backend (docs/contributing.md)."""
from __future__ import annotations

import pathlib
import re
import sys
import traceback

import matplotlib
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

DOCS = pathlib.Path(__file__).resolve().parents[2] / "docs"
FENCE = re.compile(r"^(\s*)```python\s*$")
sys.path.insert(0, str(DOCS.parent / "tests" / "docs"))
import markdown_snippets  # noqa: E402  (the one Markdown scanner, shared with the C++ docs tests)

# The documents with Python blocks; test_every_document_with_python_blocks_is_tested keeps this
# list in step with docs/.
DOCUMENTS = ["analytics.md", "arrow.md", "beyond-one-machine.md", "engagement.md", "facts.md",
             "contractual.md",  # contractual customers (issue 11 item 3)
             "guide.md", "lifecycle-store.md", "lifecycle.md", "loyalty-metrics.md",
             "notebook.md", "points-store.md", "points.md", "rules.md", "segments.md",
             "spark.md", "value-ltv.md", "value.md",
             "value-uncertainty.md"]
DOCUMENTS += ["lifetimes-compat.md"]
DOCUMENTS += ["value-covariates.md"]  # issue 11 item 2 (covariates)


def pieces(text: str):
    """Yields (label, code) in file order: "block N" for the N-th ```python block (1-based) and
    "hidden set-up before block N+1 (line L: description)" for a docs-test-py comment."""
    n = 0
    for piece in markdown_snippets.scan(text, "python", "docs-test-py:"):
        if piece.kind == "code":
            n += 1
            yield f"block {n} (line {piece.line - 1})", "\n".join(piece.lines) + "\n"
        else:
            first, rest = piece.lines[0], piece.lines[1:]
            yield (f"hidden set-up before block {n + 1} (line {piece.line}: {first.strip()})",
                   "\n".join(rest).rstrip() + "\n")


def documents_with_python_blocks() -> list[str]:
    return sorted(p.name for p in DOCS.glob("*.md")
                  if any(FENCE.match(l) for l in p.read_text(encoding="utf-8").splitlines()))


def test_every_document_with_python_blocks_is_tested():
    assert documents_with_python_blocks() == sorted(DOCUMENTS)


def test_hidden_python_set_up_is_not_read_as_cpp_set_up():
    # tests/docs/extract_snippets.py must not take a docs-test-py comment for a C++ one.
    import importlib.util

    path = DOCS.parent / "tests" / "docs" / "extract_snippets.py"
    spec = importlib.util.spec_from_file_location("extract_snippets", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = "<!-- docs-test-py: python set-up\nx = 1\n-->\n<!-- docs-test: c++ set-up\nint y = 2;\n-->\n"
    assert list(module.blocks(text)) == [
        ("hidden", ["// (hidden set-up) c++ set-up", "int y = 2;"], False)]


def test_pieces_label_blocks_and_hidden_set_up_in_order():
    text = ("intro\n```python\na = 1\n```\n<!-- docs-test-py: check a\nassert a == 1\n-->\n"
            "```cpp\nint x;\n```\n  ```python\n  b = a + 1\n  ```\n")
    assert list(pieces(text)) == [
        ("block 1 (line 2)", "a = 1\n"),
        ("hidden set-up before block 2 (line 5: check a)", "assert a == 1\n"),
        ("block 2 (line 11)", "b = a + 1\n"),
    ]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_python_snippets_of_document_run(document, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = DOCS / document
    items = list(pieces(path.read_text(encoding="utf-8")))
    assert any(label.startswith("block") for label, _ in items), f"{document}: no python block"
    scope: dict = {"__name__": "__docs__"}
    failure = None
    try:
        for label, code in items:
            try:
                exec(compile(code, f"{document} {label}", "exec"), scope)
            except Exception:
                failure = f"{document}, {label} failed:\n{traceback.format_exc()}"
                break
    finally:
        plt.close("all")
        store = scope.get("store")
        if store is not None and hasattr(store, "close"):
            store.close()
    if failure is not None:
        pytest.fail(failure, pytrace=False)
