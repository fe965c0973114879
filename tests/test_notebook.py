"""The exploration notebook: committed without outputs, runs end to end, and writes its plots."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "explore.ipynb"
PLOTS = ("tone_by_language.png", "client_type_over_time.png", "escalation_timeline.png", "confusion_tone.png")
PNG = b"\x89PNG\r\n\x1a\n"


def test_committed_without_outputs() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert len(code) >= 10
    for cell in code:
        assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]
    assert nb.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.slow
def test_notebook_runs_and_saves_plots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from nbclient import NotebookClient

    monkeypatch.setenv("CLIENTSENSE_NOTEBOOK_OUT", str(tmp_path))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        nb, timeout=240, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    ).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 4
    html = [o.data["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert any('class="clientsense-analysis"' in h and "<mark" in h for h in html)
    assert any('class="clientsense-table"' in h for h in html)
    for name in PLOTS:
        data = (tmp_path / name).read_bytes()
        assert data.startswith(PNG) and len(data) > 5000, name


def test_readme_figure_is_committed() -> None:
    fig = ROOT / "docs" / "img" / "notebook_tone_by_language.png"
    data = fig.read_bytes()
    assert data.startswith(PNG) and len(data) > 5000
    assert "docs/img/notebook_tone_by_language.png" in (ROOT / "README.md").read_text(encoding="utf-8")
