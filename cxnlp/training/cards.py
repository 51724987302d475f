"""Model cards whose SHA-256 block is checked when the model loads.

A trained head is a folder of safetensors + JSON files and a ``MODEL_CARD.md``. The card ends
with a fenced ``sha256`` block (``<digest>  <file>`` per line, the format ``sha256sum``
writes), so a corrupt or hand-edited artifact is refused at load time with a message that
says how to fix it, instead of silently giving other answers. Every head (sentiment, theme,
churn reason) writes and checks its card here, so there is one way to do it, and
:func:`verify_checksums` returns the artifact id (folder name + short hash of the verified
files) that the run manifest names the head by.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

from ..errors import ModelError

__all__ = [
    "CARD_FILE",
    "artifact_id",
    "read_checksums",
    "sha256_file",
    "verify_checksums",
    "write_card",
]

CARD_FILE = "MODEL_CARD.md"
_SHA_LINE = re.compile(r"^([0-9a-f]{64})\s+\*?(\S+)\s*$")


def sha256_file(path: str | Path) -> str:
    """SHA-256 hex digest of a file (read in 1 MiB blocks)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def artifact_id(folder: str | Path, digests: dict[str, str]) -> str:
    """``<folder name>@<12 hex>``: names a head precisely in a run manifest.

    The hash is over the sorted ``file digest`` pairs, so two folders with the same name but
    other weights get other ids, and copying a folder elsewhere keeps its id.
    """
    joined = "\n".join(f"{name} {digests[name]}" for name in sorted(digests))
    return f"{Path(folder).name}@{hashlib.sha256(joined.encode()).hexdigest()[:12]}"


def write_card(folder: str | Path, body: str, files: Sequence[str]) -> Path:
    """Write ``MODEL_CARD.md``: ``body`` followed by the SHA-256 of each of ``files``.

    Parameters
    ----------
    folder : path
        The model folder; ``files`` are relative to it and must exist.
    body : str
        Markdown describing data, metrics and use.
    files : sequence of str
        The artifact files whose hashes the loader checks.
    """
    folder = Path(folder)
    sums = "\n".join(f"{sha256_file(folder / f)}  {f}" for f in files)
    text = body.rstrip() + (
        "\n\n## Files (SHA-256, checked on load)\n\n```sha256\n" + sums + "\n```\n"
    )
    card = folder / CARD_FILE
    card.write_text(text, encoding="utf-8")
    return card


def read_checksums(folder: str | Path) -> dict[str, str]:
    """``{file: sha256}`` from the card's checksum lines (empty when the card has none)."""
    card = Path(folder) / CARD_FILE
    if not card.is_file():
        return {}
    sums: dict[str, str] = {}
    for line in card.read_text(encoding="utf-8").splitlines():
        m = _SHA_LINE.match(line.strip())
        if m:
            sums[m.group(2)] = m.group(1)
    return sums


def verify_checksums(folder: str | Path, files: Sequence[str], what: str, hint: str) -> str:
    """Check ``files`` (and any other file the card lists) against the card's SHA-256 block.

    Parameters
    ----------
    folder : path
        The model folder.
    files : sequence of str
        Files that must be listed in the card and match it.
    what : str
        What the model is, for the message (``"churn-reason model"``).
    hint : str
        How to fix it, e.g. ``"retrain with `cxnlp train churn`"``.

    Returns
    -------
    str
        The artifact id (:func:`artifact_id`) of the verified files.

    Raises
    ------
    ModelError
        The card is missing, does not list a file, a file is missing, or a hash differs.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelError(f"The {what} folder {folder} does not exist. Check the path; {hint}.")
    if not (folder / CARD_FILE).is_file():
        raise ModelError(f"No {CARD_FILE} in {folder}: cannot verify the {what}; {hint}.")
    expected = read_checksums(folder)
    for name in dict.fromkeys([*files, *expected]):
        f = folder / name
        if name not in expected:
            raise ModelError(f"{folder / CARD_FILE} lists no SHA-256 for {name}; {hint}.")
        if not f.is_file():
            raise ModelError(f"The {what} file {f} is missing; {hint}.")
        got = sha256_file(f)
        if got != expected[name]:
            raise ModelError(
                f"The {what} file {f} does not match its model card: SHA-256 {got}, expected "
                f"{expected[name]}. The file is corrupt or was modified; {hint}."
            )
    return artifact_id(folder, expected)
