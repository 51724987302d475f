"""Model cards whose SHA-256 block is checked when the model loads.

A trained head is a folder of safetensors + JSON files and a ``MODEL_CARD.md``. The card ends
with a fenced ``sha256`` block (``<digest>  <file>`` per line, the format ``sha256sum``
writes), so a corrupt or hand-edited artifact is refused at load time with a message that
says how to fix it, instead of silently giving other answers. :mod:`cxnlp.sentiment` writes
the same block for the shipped sentiment head.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from ..errors import ModelError

__all__ = ["CARD_FILE", "read_checksums", "verify_checksums", "write_card"]

CARD_FILE = "MODEL_CARD.md"
_SHA_LINE = re.compile(r"^([0-9a-f]{64})\s+\*?(\S+)\s*$")


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
    from ..sentiment import sha256_file

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


def verify_checksums(folder: str | Path, files: Sequence[str], what: str, hint: str) -> None:
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

    Raises
    ------
    ModelError
        The card is missing, does not list a file, a file is missing, or a hash differs.
    """
    from ..sentiment import sha256_file

    folder = Path(folder)
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
