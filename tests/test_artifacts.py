from pathlib import Path

import pytest

from clientsense.artifacts import ArtifactError, models_dir, verify_file, write_manifest


def test_shipped_manifest_verifies_every_file() -> None:
    import json

    d = models_dir()
    files = json.loads((d / "MANIFEST.json").read_text())["files"]
    assert "tone.joblib" in files and "client_type.joblib" in files
    for rel in files:
        verify_file(d, rel)


def test_tampered_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "m.joblib").write_bytes(b"original")
    write_manifest(tmp_path)
    assert verify_file(tmp_path, "m.joblib").name == "m.joblib"
    (tmp_path / "m.joblib").write_bytes(b"tampered")
    with pytest.raises(ArtifactError, match="does not match"):
        verify_file(tmp_path, "m.joblib")


def test_missing_manifest_and_unlisted(tmp_path: Path) -> None:
    (tmp_path / "x.joblib").write_bytes(b"x")
    with pytest.raises(ArtifactError, match="no MANIFEST"):
        verify_file(tmp_path, "x.joblib")
    write_manifest(tmp_path)
    (tmp_path / "y.joblib").write_bytes(b"y")
    with pytest.raises(ArtifactError, match="not listed"):
        verify_file(tmp_path, "y.joblib")


def test_untrusted_model_dir_needs_trusted(tmp_path: Path) -> None:
    from clientsense.analyzer import Analyzer

    with pytest.raises(ArtifactError, match="trusted=True"):
        Analyzer(tmp_path)
    with pytest.raises(ArtifactError, match="no MANIFEST"):
        Analyzer(tmp_path, trusted=True)


def test_rewriting_manifest_keeps_metadata(tmp_path: Path) -> None:
    import json

    (tmp_path / "a.bin").write_bytes(b"a")
    write_manifest(tmp_path, {"version": "1.2.3"})
    (tmp_path / "b.bin").write_bytes(b"b")
    write_manifest(tmp_path)
    doc = json.loads((tmp_path / "MANIFEST.json").read_text())
    assert doc["version"] == "1.2.3" and set(doc["files"]) == {"a.bin", "b.bin"}
