"""Locate, verify (SHA-256 manifest) and load the model artifacts."""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path

MANIFEST = "MANIFEST.json"


class ArtifactError(RuntimeError):
    """A model directory is missing, incomplete, tampered with or untrusted."""


def models_dir() -> Path:
    """The directory of the shipped models.

    Order: the copy inside the installed wheel; the source checkout's top-level ``models/``.
    No environment variable can redirect it: any other directory is a user path and loads only
    with ``trusted=True``.
    """
    packaged = Path(str(resources.files("clientsense"))) / "models"
    if (packaged / MANIFEST).is_file():
        return packaged
    return Path(__file__).resolve().parents[2] / "models"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_manifest(directory: Path, extra: dict[str, object] | None = None) -> Path:
    """Record the SHA-256 of every file below ``directory`` (except the manifest itself).

    Metadata of an existing manifest (e.g. ``version``) is kept unless ``extra`` replaces it.
    """
    out = directory / MANIFEST
    previous = json.loads(out.read_text(encoding="utf-8")) if out.is_file() else {}
    files = {
        p.relative_to(directory).as_posix(): sha256_file(p)
        for p in sorted(directory.rglob("*"))
        if p.is_file() and p.name != MANIFEST and "__pycache__" not in p.parts
    }
    doc = {**{k: v for k, v in previous.items() if k != "files"}, **(extra or {}), "files": files}
    out.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return out


def _manifest_files(directory: Path) -> dict[str, str]:
    """The manifest's ``files`` table (path → SHA-256); ``ArtifactError`` if missing or malformed."""
    manifest_path = directory / MANIFEST
    if not manifest_path.is_file():
        raise ArtifactError(f"no {MANIFEST} in {directory}: refusing to load unverified artifacts")
    try:
        doc = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ArtifactError(f"{manifest_path} is unreadable or not JSON: {exc}") from exc
    files = doc.get("files") if isinstance(doc, dict) else None
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        raise ArtifactError(f"{manifest_path} has no valid 'files' table of SHA-256 hashes")
    return files


def is_listed(directory: Path, relpath: str) -> bool:
    """Whether a valid manifest in ``directory`` lists ``relpath`` (for optional artifacts)."""
    try:
        return relpath in _manifest_files(directory)
    except ArtifactError:
        return False


def verify_file(directory: Path, relpath: str) -> Path:
    """Check one artifact against the manifest before it is opened; return its path."""
    manifest_path = directory / MANIFEST
    files = _manifest_files(directory)
    if relpath not in files:
        raise ArtifactError(f"{relpath} is not listed in {manifest_path}")
    path = directory / relpath
    if not path.is_file():
        raise ArtifactError(f"{path} is listed in the manifest but missing")
    actual = sha256_file(path)
    if actual != files[relpath]:
        raise ArtifactError(
            f"{path} does not match its manifest hash (expected {files[relpath][:12]}…, "
            f"got {actual[:12]}…): the file was modified or corrupted"
        )
    return path
