"""Train a codeframe's theme head from labelled examples (``cxnlp train themes``).

A labels file is a CSV/XLSX/Parquet/JSONL table with a text column and a theme column: one
row per (text, theme), or several themes in one cell separated by ``;``. Theme cells may hold
theme ids or labels (case-insensitive); an empty cell or ``none`` marks a text that mentions
no theme (a useful negative). The head (:meth:`CodeframeClassifier.fit`) is saved as
safetensors + JSON with a ``MODEL_CARD.md`` (data, counts per theme, cross-validated metrics);
``themes.model: <folder>`` in a config then uses it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError

__all__ = ["read_theme_labels", "train_themes"]

_TEXT_NAMES = ("text", "comment", "verbatim", "response", "review", "feedback", "sentence")
_THEME_NAMES = ("theme", "themes", "label", "labels", "code", "codes", "category")
_NONE = {"", "none", "no theme", "no_theme", "-", "nan"}


def _pick(
    frame: pd.DataFrame, given: str | None, names: tuple[str, ...], what: str, flag: str, path: Path
) -> str:
    cols = [str(c) for c in frame.columns]
    if given is not None:
        if given not in cols:
            raise InputError(
                f"Column '{given}' not found in {path} (columns: {', '.join(cols)}). "
                f"Pass the right name to {flag}."
            )
        return given
    for name in names:
        for c in cols:
            if c.strip().lower() == name:
                return c
    raise InputError(
        f"No {what} column in {path} (columns: {', '.join(cols)}); expected one of "
        f"{', '.join(names)}. Pass it with {flag}."
    )


def read_theme_labels(
    path: str | Path, codeframe: Any, text_column: str | None = None,
    theme_column: str | None = None,
) -> pd.DataFrame:  # fmt: skip
    """Read a labels file into one row per distinct text with its list of theme ids.

    Returns
    -------
    DataFrame
        ``text`` and ``themes`` (list of theme ids of ``codeframe``, possibly empty).

    Raises
    ------
    InputError
        Missing columns, or theme names that are neither ids nor labels of the codeframe
        (all of them listed with the rows they occur on).
    """
    from ..io import read_feedback

    path = Path(path)
    if not path.exists():
        raise InputError(f"Labels file not found: {path}. Check the path.")
    frame = read_feedback(path)
    tcol = _pick(frame, text_column, _TEXT_NAMES, "text", "--text-column", path)
    ccol = _pick(frame, theme_column, _THEME_NAMES, "theme", "--theme-column", path)
    lookup = {t.id.lower(): t.id for t in codeframe.themes}
    lookup.update({t.label.strip().lower(): t.id for t in codeframe.themes})
    order: dict[str, list[str]] = {}
    unknown: dict[str, list[int]] = {}
    for i, (text, cell) in enumerate(zip(frame[tcol], frame[ccol], strict=True)):
        text = "" if pd.isna(text) else str(text).strip()
        if not text:
            continue
        themes = order.setdefault(text, [])
        cell = "" if pd.isna(cell) else str(cell)
        for raw in cell.split(";"):
            name = raw.strip()
            if name.lower() in _NONE:
                continue
            tid = lookup.get(name.lower())
            if tid is None:
                unknown.setdefault(name, []).append(i + 2)  # 1-based, after the header
            elif tid not in themes:
                themes.append(tid)
    if unknown:
        lines = "; ".join(
            f"'{k}' (rows {', '.join(map(str, v[:5]))}{'...' if len(v) > 5 else ''})"
            for k, v in unknown.items()
        )
        raise InputError(
            f"{path}: {len(unknown)} theme name(s) not in codeframe '{codeframe.name}': {lines}. "
            f"Use theme ids or labels ({', '.join(codeframe.ids[:12])}"
            f"{', ...' if len(codeframe.ids) > 12 else ''})."
        )
    if not order:
        raise InputError(f"{path}: no labelled text found in column '{tcol}'.")
    return pd.DataFrame({"text": list(order), "themes": list(order.values())})


def _cv_metrics(
    clf_params: dict,
    codeframe: Any,
    encoder: Any,
    X: np.ndarray,
    Y: np.ndarray,
    texts: list[str],
    folds: int,
    seed: int,
) -> dict[str, Any]:
    """Micro/macro F1 and per-theme precision/recall/F1 from K-fold predictions."""
    from sklearn.model_selection import KFold

    from ..themes import CodeframeClassifier

    P = np.zeros_like(Y)
    for tr, te in KFold(folds, shuffle=True, random_state=seed).split(X):
        clf = CodeframeClassifier(codeframe, encoder, **clf_params)
        clf.fit(X[tr], Y[tr], texts=[texts[i] for i in tr])
        P[te] = clf.predict(X[te], [texts[i] for i in te])
    per = {}
    f1s = []
    for k, tid in enumerate(codeframe.ids):
        y, p = Y[:, k], P[:, k]
        if not y.any():
            continue
        tp = float((y & p).sum())
        prec = tp / p.sum() if p.sum() else 0.0
        rec = tp / y.sum()
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        f1s.append(f1)
        per[tid] = {"n": int(y.sum()), "precision": round(prec, 3), "recall": round(rec, 3),
                    "f1": round(f1, 3)}  # fmt: skip
    tp = float((Y & P).sum())
    denom = float(Y.sum() + P.sum())
    return {
        "folds": folds,
        "micro_f1": round(2 * tp / denom, 3) if denom else 0.0,
        "macro_f1": round(float(np.mean(f1s)), 3) if f1s else 0.0,
        "per_theme": per,
    }


def train_themes(
    codeframe: str | Path | Any,
    labels: str | Path,
    out: str | Path,
    text_column: str | None = None,
    theme_column: str | None = None,
    encoder: Any = None,
    cv: int = 3,
    seed: int = 0,
    ngram_weight: float = 0.0,
) -> dict[str, Any]:
    """Fit a :class:`~cxnlp.themes.CodeframeClassifier` on a labels file and save it.

    Parameters
    ----------
    codeframe : Codeframe, shipped name or YAML path
    labels : path
        CSV/XLSX/... with a text column and a theme column (see :func:`read_theme_labels`).
    out : path
        Folder for ``themes.safetensors``, ``themes.json`` and ``MODEL_CARD.md``.
    cv : int
        Folds of the cross-validation reported in the model card (``0``: none).

    Returns
    -------
    dict
        What the model card reports: counts per theme and cross-validated metrics.
    """
    from ..encode import Encoder
    from ..themes import Codeframe, CodeframeClassifier

    cf = codeframe if isinstance(codeframe, Codeframe) else Codeframe.load(codeframe)
    data = read_theme_labels(labels, cf, text_column, theme_column)
    encoder = encoder or Encoder()
    texts = data["text"].tolist()
    X = encoder.encode(texts)
    params = {"random_state": seed, "ngram_weight": ngram_weight}
    clf = CodeframeClassifier(cf, encoder, **params)
    Y = clf._indicator(data["themes"].tolist(), len(texts))
    counts = {tid: int(Y[:, k].sum()) for k, tid in enumerate(cf.ids)}
    labelled = [t for t, n in counts.items() if n]
    if not labelled:
        raise InputError(f"{labels}: no text carries a theme of codeframe '{cf.name}'.")
    folds = min(cv, len(texts) // 4) if cv else 0
    metrics = _cv_metrics(params, cf, encoder, X, Y, texts, folds, seed) if folds >= 2 else {}
    clf.fit(X, Y, texts=texts)
    out = Path(out)
    clf.save(out)
    labels = Path(labels)
    info = {
        "codeframe": cf.name,
        "labels_file": labels.name,
        "labels_sha256": hashlib.sha256(labels.read_bytes()).hexdigest(),
        "texts": len(texts),
        "texts_without_theme": int((~Y.any(axis=1)).sum()),
        "counts": counts,
        "cv": metrics,
        "encoder": encoder.model_id,
        "params": params,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    (out / "MODEL_CARD.md").write_text(_card(info, out), encoding="utf-8")
    (out / "training.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return info


def _card(info: dict[str, Any], out: Path) -> str:
    counts = info["counts"]
    cv = info["cv"] or {}
    per = cv.get("per_theme", {})
    lines = [
        f"# Theme head for codeframe `{info['codeframe']}`",
        "",
        "One-vs-rest logistic regressions on the shared encoder's embeddings plus the zero-shot "
        "similarities to each theme, blended with the zero-shot score by how many labelled "
        "examples each theme had (`cxnlp.themes.CodeframeClassifier.fit`). Files: "
        "`themes.safetensors` (weights), `themes.json` (codeframe, parameters, encoder id).",
        "",
        "## Use",
        "",
        f"```yaml\nthemes:\n  model: {out.as_posix()}\n```",
        "",
        "## Data",
        "",
        f"- labels file: `{info['labels_file']}` (sha256 `{info['labels_sha256'][:16]}…`)",
        f"- {info['texts']} distinct texts, {info['texts_without_theme']} without any theme",
        f"- encoder: `{info['encoder']}`; created {info['created']}",
        "- Ship a head under `models/` only when its training data is ship-safe "
        "(see `data/README.md`).",
        "",
        "## Examples per theme and cross-validated quality",
        "",
    ]
    if cv:
        lines += [f"{cv['folds']}-fold cross-validation on the labels file: micro-F1 "
                  f"**{cv['micro_f1']:.3f}**, macro-F1 **{cv['macro_f1']:.3f}** "
                  "(themes with at least one example).", ""]  # fmt: skip
    else:
        lines += ["Too few texts for cross-validation (needs at least 8).", ""]
    lines += ["| theme | examples | precision | recall | F1 |", "|---|---:|---:|---:|---:|"]
    for tid, n in counts.items():
        m = per.get(tid)
        cells = (f"{m['precision']:.2f} | {m['recall']:.2f} | {m['f1']:.2f}" if m
                 else "– | – | –")  # fmt: skip
        lines.append(f"| {tid} | {n} | {cells} |")
    lines += ["", "Themes with no example keep their zero-shot score. 8-16 examples per theme "
              "are already useful; more is better.", ""]  # fmt: skip
    return "\n".join(lines)
