"""Executes examples/notebooks/cdnow.ipynb as a user would (a fresh Jupyter kernel running this
interpreter, in an empty working directory) and checks that no cell failed and that the printed
results are the published CDNOW numbers."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "examples" / "notebooks" / "cdnow.ipynb"
KERNEL = "crmkit-test-python"


def _kernelspec(directory: Path) -> Path:
    """A kernelspec named KERNEL whose kernel is this very interpreter (the venv's python),
    whatever `python` means on PATH. Returns the directory to put on JUPYTER_PATH."""
    spec = directory / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "crmkit test (venv python)",
                "language": "python",
            }
        )
    )
    return directory


def _text_outputs(notebook) -> str:
    # The kernel may send one print() as several stream messages ("plotted:", " title\n"), which
    # nbclient keeps as separate outputs: consecutive outputs of one stream are joined as they were
    # printed, never with "\n".
    parts = []
    for cell in notebook.cells:
        previous_stream = None
        for output in cell.get("outputs", []):
            is_stream = output.get("output_type") == "stream"
            if is_stream and previous_stream == output.get("name"):
                parts[-1] += output.get("text", "")
            elif is_stream:
                parts.append(output.get("text", ""))
            elif output.get("output_type") in ("execute_result", "display_data"):
                parts.append(output.get("data", {}).get("text/plain", ""))
            previous_stream = output.get("name") if is_stream else None
    return "\n".join(parts)


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    jupyter = _kernelspec(tmp_path_factory.mktemp("jupyter"))
    workdir = tmp_path_factory.mktemp("notebook-run")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_PATH", str(jupyter))
        mp.setenv("MPLBACKEND", "Agg")
        mp.setenv("CRMKIT_REPO", str(ROOT))
        notebook = nbformat.read(NOTEBOOK, as_version=4)
        client = nbclient.NotebookClient(
            notebook,
            timeout=300,
            # After a cell ends, nbclient waits iopub_timeout (default 4 s) for its last outputs
            # and then silently drops them: on a loaded machine a print could go missing. Wait
            # longer, and fail loudly rather than lose an output.
            iopub_timeout=60,
            raise_on_iopub_timeout=True,
            kernel_name=KERNEL,
            resources={"metadata": {"path": str(workdir)}},
        )
        client.execute()
    return notebook, workdir


def test_the_committed_notebook_has_no_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code, "the notebook has no code cells"
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code)
    nbformat.validate(notebook)


def test_no_cell_errors(executed):
    notebook, _ = executed
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error", f"cell {index}: {output.get('ename')}: {output.get('evalue')}"
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count is not None for cell in code)


def test_runs_in_the_kernel_of_this_interpreter(executed):
    assert f"python: {sys.executable}" in _text_outputs(executed[0])


def test_prints_the_published_cdnow_results(executed):
    text = _text_outputs(executed[0])
    # The import and the summary (data/README.md).
    assert "purchases imported: 6919, customers created: 2357" in text
    assert "second import: 0 added, 6919 skipped" in text
    assert "revenue: 244091.94 USD" in text
    assert "customers: 2357, repeat buyers: 946, repeat transactions: 2457" in text
    assert "frequency equal: True" in text
    assert "recency, T within 0.01: True" in text
    # BG/NBD and Pareto/NBD (Fader, Hardie and Lee) and Gamma-Gamma on the 946 repeat buyers.
    assert "BG/NBD r=0.243 alpha=4.414 a=0.793 b=2.426 LL=-9582.4" in text
    assert "Pareto/NBD r=0.553 alpha=10.578 s=0.606 beta=11.669 LL=-9595.0" in text
    assert "Gamma-Gamma on 946 repeat buyers: p=6.25 q=3.74 v=15.44" in text
    assert "BG/NBD E[X(39)] = 1.226" in text
    assert "Pareto/NBD P(alive) = 0.9979, E[X(52)] = 25.46" in text
    # The holdout, and the cumulative repeat transactions at weeks 20..25 (BTYD walkthrough).
    assert "holdout: 39 weeks, 1882 repeat transactions" in text
    assert "actual weeks 20-25: [1359, 1414, 1484, 1517, 1573, 1672]" in text
    assert "model weeks 20-25:  [1309, 1385, 1460, 1533, 1604, 1674]" in text
    assert "actual: [1411, 439, 214, 100, 62, 38, 29]" in text
    # Four plots were drawn, each cell printing its own line.
    notebook = executed[0]
    plotting_cells = [i for i, cell in enumerate(notebook.cells)
                      if cell.cell_type == "code" and 'print("plotted:"' in cell.source]
    assert len(plotting_cells) == 4
    for i in plotting_cells:
        outputs = notebook.cells[i].get("outputs", [])
        streams = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
        assert "plotted: " in streams, f"cell {i} printed no 'plotted:' line; outputs: {outputs!r}"
    assert text.count("plotted: ") == 4
    # LTV parts: the historical part is exact money and adds up to the store's revenue.
    assert "total historical: 244091.94 " in text
    # Every customer has a segment.
    assert "segmented customers: 2357" in text
