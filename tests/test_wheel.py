"""The wheel carries the models, playbook and patterns, and works outside the source tree."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            str(ROOT),
            "-w",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    return next(out.glob("clientsense-*.whl"))


def test_wheel_contents(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    manifest = json.loads((ROOT / "models/MANIFEST.json").read_text())
    for rel in manifest["files"]:
        assert f"clientsense/models/{rel}" in names, rel
    assert "clientsense/models/MANIFEST.json" in names
    assert "clientsense/playbook/playbook.toml" in names and "clientsense/playbook/rules.toml" in names
    for lang in ("en", "ru", "fr", "ro", "pl"):
        assert f"clientsense/signal_patterns/{lang}.toml" in names
    assert "clientsense/signal_patterns/index.json" in names


def test_installed_wheel_works_from_any_directory(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
    )
    code = (
        "import clientsense, json; from clientsense.artifacts import models_dir; "
        "r = clientsense.analyze('Dzień dobry, kiedy dostanę zwrot pieniędzy?'); "
        "print(json.dumps([clientsense.__file__, str(models_dir()), r.language, r.step.id]))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    file, models, lang, step = json.loads(run.stdout.strip().splitlines()[-1])
    assert file.startswith(str(target)) and models.startswith(str(target))
    assert lang == "pl" and step
