"""The Python snippet of README.md (the table near the top), run as written, twice on one file."""
import pathlib
import re

import crmkit

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def readme_python_snippet() -> str:
    text = README.read_text(encoding="utf-8")
    table = text[text.index("## One task in C++ and in Python"):]
    blocks = re.findall(r"```python\n(.*?)```", table, flags=re.S)
    assert blocks, "README.md: no Python block in the table"
    return blocks[0]


def test_readme_python_snippet_runs_twice_on_the_same_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    snippet = readme_python_snippet()
    assert "get_or_create_customer" in snippet
    for run in range(2):
        scope: dict = {}
        exec(compile(snippet, str(README), "exec"), scope)
        store, c, s = scope["store"], scope["c"], scope["s"]
        assert scope["created"] is (run == 0)
        assert c.id == 1 and c.external_id == "c-1"
        assert s.revenue == crmkit.Money("19.99", "USD")
        assert repr(s.revenue) == "Money('19.99', 'USD')"
        assert s.customers == 1 and s.purchases == 1 and s.events == 1
        assert store.get_customer_by_email("ANN@example.com").id == c.id
        assert len(store.audit_log()) == 1
        store.close()
    assert (tmp_path / "shop.crmkit").exists()
