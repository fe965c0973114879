from pathlib import Path

import pytest

from clientsense.artifacts import ArtifactError, models_dir, verify_file, write_manifest


def test_shipped_manifest_verifies_every_file() -> None:
    import json

    d = models_dir()
    files = json.loads((d / "MANIFEST.json").read_text())["files"]
    assert {"tone.npz", "client_type.npz", "step.npz", "signals.npz"} <= set(files)
    assert not any(name.endswith((".joblib", ".pkl", ".pickle")) for name in files), "the shipped model holds no pickle"
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


def _copy_models(tmp_path: Path) -> Path:
    import shutil

    dst = tmp_path / "models"
    shutil.copytree(models_dir(), dst, ignore=shutil.ignore_patterns("__pycache__"))
    return dst


@pytest.mark.parametrize("name", ["tone.npz", "client_type.npz", "step.npz", "signals.npz"])
def test_tampered_copy_is_refused_before_opening(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    import numpy as np

    from clientsense.analyzer import Analyzer

    d = _copy_models(tmp_path)
    with open(d / name, "ab") as fh:
        fh.write(b"\0")  # one appended byte
    real_load = np.load

    def guarded(path: object, *args: object, **kwargs: object) -> object:
        assert Path(str(path)).name != name, "opened an unverified model file"
        return real_load(path, *args, **kwargs)

    monkeypatch.setattr(np, "load", guarded)
    with pytest.raises(ArtifactError, match="does not match its manifest hash"):
        Analyzer(d, trusted=True)


def test_missing_listed_file_and_extra_file(tmp_path: Path) -> None:
    d = _copy_models(tmp_path)
    (d / "client_type.npz").unlink()
    with pytest.raises(ArtifactError, match="missing"):
        verify_file(d, "client_type.npz")
    (d / "evil.joblib").write_bytes(b"cos\nsystem\n(S'echo pwned'\ntR.")  # a classic malicious pickle
    with pytest.raises(ArtifactError, match="not listed"):
        verify_file(d, "evil.joblib")


def test_untampered_copy_loads_only_with_trusted(tmp_path: Path) -> None:
    from clientsense.analyzer import Analyzer

    d = _copy_models(tmp_path)
    with pytest.raises(ArtifactError, match="trusted=True"):
        Analyzer(d)
    a = Analyzer(d, trusted=True)
    assert a.analyze("Where is my parcel?").language == "en"


@pytest.mark.parametrize("body", ["not json", "[1, 2]", '{"files": ["a"]}', '{"files": {"m.joblib": 3}}', "\udcff"])
def test_malformed_manifest_is_a_clear_error(tmp_path: Path, body: str) -> None:
    (tmp_path / "m.joblib").write_bytes(b"x")
    (tmp_path / "MANIFEST.json").write_bytes(body.encode("utf-8", errors="surrogateescape"))
    with pytest.raises(ArtifactError, match=r"MANIFEST\.json"):
        verify_file(tmp_path, "m.joblib")


def test_language_model_checked_too(tmp_path: Path) -> None:
    from clientsense.language import LanguageDetector

    d = _copy_models(tmp_path)
    with open(d / "langid" / "ngrams.npz", "ab") as fh:
        fh.write(b"\0")
    with pytest.raises(ArtifactError, match="does not match"):
        LanguageDetector(backend="native", model_dir=d)
    with pytest.warns(RuntimeWarning, match="falling back to langdetect"):
        assert LanguageDetector(model_dir=d).backend == "langdetect"


def test_step_model_is_verified_and_optional(tmp_path: Path) -> None:
    import json

    from clientsense.analyzer import Analyzer

    shipped = Analyzer()
    assert shipped.step_model is not None and shipped.info()["step_model"]
    d = _copy_models(tmp_path)
    (d / "step.npz").unlink()
    doc = json.loads((d / "MANIFEST.json").read_text())
    del doc["files"]["step.npz"]
    (d / "MANIFEST.json").write_text(json.dumps(doc))
    a = Analyzer(d, trusted=True)  # a directory without a step model falls back to the rule steps
    assert a.step_model is None and not a.info()["step_model"]
    r = a.analyze("Thank you so much, all sorted now!")
    assert r.step.id == "follow_up" and "step model" not in r.step.reason
    # Listed but tampered: refused like any other artifact.
    d2 = _copy_models(tmp_path / "second")
    with open(d2 / "step.npz", "ab") as fh:
        fh.write(b"\0")
    with pytest.raises(ArtifactError, match="does not match its manifest hash"):
        Analyzer(d2, trusted=True)


def test_environment_cannot_redirect_the_shipped_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from clientsense.analyzer import Analyzer

    d = _copy_models(tmp_path)
    monkeypatch.setenv("CLIENTSENSE_MODELS", str(d))
    assert models_dir().resolve() != d.resolve()
    with pytest.raises(ArtifactError, match="trusted=True"):
        Analyzer(d)
