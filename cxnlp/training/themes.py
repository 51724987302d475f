"""Train a theme head or a churn-reason head from labelled examples.

``cxnlp train themes`` and ``cxnlp train churn`` share one code path: a churn-reason list is
structurally a flat codeframe (one "theme" per reason, ``other`` being "none of them"), so
both heads are a :class:`~cxnlp.themes.CodeframeClassifier` fitted by :func:`_fit_and_save`.

A labels file is a CSV/XLSX/Parquet/JSONL table with a text column and a label column: one
row per (text, theme), or several themes in one cell separated by ``;``. Cells may hold ids
or labels (case-insensitive); an empty cell or ``none`` (for churn also ``other``) marks a
text with no theme/reason (a useful negative). The head is saved as safetensors + JSON with a
``MODEL_CARD.md`` (data, counts per label, cross-validated metrics, and the files' SHA-256,
checked on load); ``themes.model: <folder>`` or ``link.churn_model: <folder>`` in a config
then uses it.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..io import ReadWarning

__all__ = ["read_theme_labels", "train_churn", "train_themes"]

_TEXT_NAMES = ("text", "comment", "verbatim", "response", "review", "feedback", "sentence")
_THEME_NAMES = ("theme", "themes", "label", "labels", "code", "codes", "category")
_REASON_NAMES = ("churn_reason", "reason", "reasons", "churn reason", "cancel_reason",
                 "cancellation_reason", "label", "labels", "code", "category")
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
    theme_column: str | None = None, *, what: str = "theme",
    none_values: frozenset[str] = frozenset(),
) -> pd.DataFrame:  # fmt: skip
    """Read a labels file into one row per distinct text with its list of theme ids.

    Parameters
    ----------
    what : str
        ``"theme"``, or ``"reason"`` for a churn-reason labels file: names the label column
        looked for (``churn_reason``, ``reason``...) and the option in messages.
    none_values : frozenset of str
        Extra cell values meaning "no label" (churn: ``other``), besides empty and ``none``.

    Returns
    -------
    DataFrame
        ``text`` and ``themes`` (list of theme ids of ``codeframe``, possibly empty).

    Raises
    ------
    InputError
        Missing columns, or names that are neither ids nor labels of the codeframe
        (all of them listed with the rows they occur on).
    """
    from ..io import read_feedback

    path = Path(path)
    if not path.exists():
        raise InputError(f"Labels file not found: {path}. Check the path.")
    frame = read_feedback(path)
    tcol = _pick(frame, text_column, _TEXT_NAMES, "text", "--text-column", path)
    names = _REASON_NAMES if what == "reason" else _THEME_NAMES
    ccol = _pick(frame, theme_column, names, what, f"--{what}-column", path)
    none = _NONE | {v.lower() for v in none_values}
    lookup = {t.id.lower(): t.id for t in codeframe.themes}
    lookup.update({t.label.strip().lower(): t.id for t in codeframe.themes})
    order: dict[str, list[str]] = {}
    unknown: dict[str, list[int]] = {}
    textless: list[int] = []
    for i, (text, cell) in enumerate(zip(frame[tcol], frame[ccol], strict=True)):
        text = "" if pd.isna(text) else str(text).strip()
        if not text:
            if not pd.isna(cell) and str(cell).strip():
                textless.append(i + 2)  # 1-based, after the header
            continue
        themes = order.setdefault(text, [])
        cell = "" if pd.isna(cell) else str(cell)
        for raw in cell.split(";"):
            name = raw.strip()
            if name.lower() in none:
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
        where = "the churn-reason list" if what == "reason" else f"codeframe '{codeframe.name}'"
        extra = "".join(f", {v}" for v in sorted(none_values))
        raise InputError(
            f"{path}: {len(unknown)} {what} name(s) not in {where}: {lines}. "
            f"Use {what} ids or labels ({', '.join(codeframe.ids[:12])}"
            f"{', ...' if len(codeframe.ids) > 12 else ''}{extra})."
        )
    if not order:
        raise InputError(f"{path}: no labelled text found in column '{tcol}'.")
    if textless:
        rows = ", ".join(map(str, textless[:5])) + ("..." if len(textless) > 5 else "")
        warnings.warn(
            f"{path}: {len(textless)} row(s) have a {what} but no text in '{tcol}' and were "
            f"skipped (rows {rows}).", ReadWarning, stacklevel=2,
        )  # fmt: skip
    if always := set.intersection(*(set(t) for t in order.values())):
        warnings.warn(
            f"{path}: every labelled text is coded {', '.join(sorted(always))}, so the head has "
            f"no example without it. Add texts without it (and texts with no {what}).",
            ReadWarning, stacklevel=2,
        )  # fmt: skip
    return pd.DataFrame({"text": list(order), "themes": list(order.values())})


def _cv_metrics(
    clf: Any, X: np.ndarray, Y: np.ndarray, texts: list[str], folds: int, seed: int
) -> dict[str, Any]:
    """K-fold micro/macro F1, per-label precision/recall/F1, and top-1 accuracy.

    Each fold fits a fresh copy of ``clf`` (same codeframe, encoder and parameters).
    ``top1_accuracy`` is over the texts with exactly one label: the highest-scoring label is
    the right one (how the churn stage picks a reason).
    """
    from sklearn.model_selection import KFold

    from ..themes import CodeframeClassifier

    ids = clf.codeframe_.ids
    P = np.zeros_like(Y)
    top = np.zeros(len(Y), int)
    for tr, te in KFold(folds, shuffle=True, random_state=seed).split(X):
        fold = CodeframeClassifier(**clf.get_params())
        fold.fit(X[tr], Y[tr], texts=[texts[i] for i in tr])
        te_texts = [texts[i] for i in te]
        P[te] = fold.predict(X[te], te_texts)
        top[te] = fold.decision_scores(X[te], te_texts).argmax(axis=1)
    per = {}
    f1s = []
    for k, tid in enumerate(ids):
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
    single = Y.sum(axis=1) == 1
    top1 = float(Y[single, top[single]].mean()) if single.any() else None
    return {
        "folds": folds,
        "micro_f1": round(2 * tp / denom, 3) if denom else 0.0,
        "macro_f1": round(float(np.mean(f1s)), 3) if f1s else 0.0,
        "top1_accuracy": round(top1, 3) if top1 is not None else None,
        "per_theme": per,
    }


def _fit_and_save(
    clf: Any, data: pd.DataFrame, labels: str | Path, out: str | Path, cv: int, seed: int,
    kind: str = "themes",
) -> dict[str, Any]:  # fmt: skip
    """Fit ``clf`` on ``data`` (``text``, ``themes``), save it with its card; the card's info.

    The one training path of theme and churn-reason heads: embed the distinct texts once,
    cross-validate a copy for the card (``cv`` folds, at least 4 texts per fold), fit on
    everything, write ``themes.safetensors`` + ``themes.json`` + ``training.json`` and a
    ``MODEL_CARD.md`` ending with their SHA-256 (checked on load).
    """
    from .cards import write_card

    if cv < 0 or cv == 1:
        raise InputError(f"--cv {cv}: cross-validation needs 2 folds or more; 0 skips it.")
    encoder = clf._encoder()
    texts = data["text"].tolist()
    X = encoder.encode(texts)
    Y = clf._indicator(data["themes"].tolist(), len(texts))
    ids = clf.codeframe_.ids
    counts = {tid: int(Y[:, k].sum()) for k, tid in enumerate(ids)}
    if not any(counts.values()):
        what = "churn reason" if kind == "churn" else f"theme of codeframe '{clf.codeframe_.name}'"
        raise InputError(f"{labels}: no text carries a {what}.")
    folds = min(cv, len(texts) // 4) if cv else 0
    metrics = _cv_metrics(clf, X, Y, texts, folds, seed) if folds >= 2 else {}
    clf.fit(X, Y, texts=texts)
    out = Path(out)
    clf.save(out)
    labels = Path(labels)
    params = {k: v for k, v in clf.get_params().items() if k not in ("codeframe", "encoder")}
    info = {
        "kind": kind,
        "codeframe": clf.codeframe_.name,
        "labels_file": labels.name,
        "labels_sha256": hashlib.sha256(labels.read_bytes()).hexdigest(),
        "texts": len(texts),
        "texts_without_theme": int((~Y.any(axis=1)).sum()),
        "counts": counts,
        "cv": metrics,
        "cv_asked": cv,
        "encoder": encoder.model_id,
        "params": params,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    (out / "training.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    write_card(out, _card(info, out), ARTIFACT_FILES)
    return info


#: Files of a saved head whose SHA-256 the model card lists.
ARTIFACT_FILES = ("themes.safetensors", "themes.json", "training.json")


def train_themes(
    codeframe: str | Path | Any,
    labels: str | Path,
    out: str | Path,
    text_column: str | None = None,
    theme_column: str | None = None,
    encoder: Any = None,
    cv: int = 3,
    seed: int = 0,
    exclusive: bool = False,
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
    exclusive : bool
        Each text has one theme or none (single-code data): one multinomial regression over
        the themes and "none" instead of one-vs-rest (see ``CodeframeClassifier``); a text
        coded with several themes anyway counts 1/n toward each.

    Returns
    -------
    dict
        What the model card reports: counts per theme and cross-validated metrics.
    """
    from ..encode import Encoder
    from ..themes import Codeframe, CodeframeClassifier

    cf = codeframe if isinstance(codeframe, Codeframe) else Codeframe.load(codeframe)
    data = read_theme_labels(labels, cf, text_column, theme_column)
    clf = CodeframeClassifier(cf, encoder or Encoder(), random_state=seed, exclusive=exclusive)
    return _fit_and_save(clf, data, labels, out, cv, seed, kind="themes")


def train_churn(
    labels: str | Path,
    out: str | Path,
    reasons: Any = None,
    codeframe: str | Path | Any = None,
    text_column: str | None = None,
    reason_column: str | None = None,
    encoder: Any = None,
    cv: int = 3,
    seed: int = 0,
) -> dict[str, Any]:
    """Fit a churn-reason head (:class:`~cxnlp.link.ChurnReasonClassifier`) and save it.

    The reasons form a flat codeframe (one theme per reason; ``other`` is not a reason but the
    answer when no reason is confident, so texts labelled ``other`` train the "none" class),
    and the head is trained like an ``exclusive`` theme head (:func:`train_themes`): one
    multinomial regression over the reasons and "none".

    Parameters
    ----------
    labels : path
        CSV/XLSX/... with a text column and a reason column (``churn_reason``, ``reason``,
        ``label``...; reason ids or labels, ``other`` allowed), one row per text.
    out : path
        Folder for the head and its ``MODEL_CARD.md``; use it with ``link.churn_model``.
    reasons : list or dict, optional
        The reason list (``link.churn_reasons``); default: the codeframe's, else the ten
        defaults (:data:`~cxnlp.themes.DEFAULT_CHURN_REASONS`).
    codeframe : Codeframe, shipped name or YAML path, optional
        Whose ``churn_reasons`` to use when ``reasons`` is not given.
    cv : int
        Folds of the cross-validation reported in the model card (``0``: none).

    Returns
    -------
    dict
        What the model card reports: counts per reason and cross-validated metrics.
    """
    from ..encode import Encoder
    from ..link import ChurnReasonClassifier, churn_reasons_of
    from ..themes import Codeframe

    cf = codeframe
    if cf is not None and not isinstance(cf, Codeframe):
        cf = Codeframe.load(cf)
    model = ChurnReasonClassifier(churn_reasons_of(cf, reasons), encoder or Encoder(),
                                  random_state=seed)  # fmt: skip
    head = model.classifier_
    data = read_theme_labels(labels, head.codeframe_, text_column, reason_column,
                             what="reason", none_values=frozenset({"other"}))  # fmt: skip
    return _fit_and_save(head, data, labels, out, cv, seed, kind="churn")


def _card(info: dict[str, Any], out: Path) -> str:
    churn = info.get("kind") == "churn"
    counts = info["counts"]
    cv = info["cv"] or {}
    per = cv.get("per_theme", {})
    what = "reason" if churn else "theme"
    if churn:
        head = [
            "# Churn-reason head",
            "",
            "The churn-reason list as a flat codeframe (one class per reason; `other` is the "
            "answer when no reason is confident), trained like a theme head but with one "
            "multinomial logistic regression over the reasons and `other` (balanced classes) "
            "on the shared encoder's embeddings plus the zero-shot similarities to each "
            "reason description, averaged with the same model on word n-grams, and blended "
            "with the zero-shot score by how many labelled examples each reason had "
            "(`cxnlp.link.ChurnReasonClassifier`).",
        ]
        use = f"```yaml\nlink:\n  churn_model: {out.as_posix()}\n```"
    else:
        head = [
            f"# Theme head for codeframe `{info['codeframe']}`",
            "",
            "One-vs-rest logistic regressions on the shared encoder's embeddings plus the "
            "zero-shot similarities to each theme, averaged with the same model on word "
            "n-grams, and blended with the zero-shot score by how many labelled examples each "
            "theme had (`cxnlp.themes.CodeframeClassifier.fit`).",
        ]
        use = f"```yaml\nthemes:\n  model: {out.as_posix()}\n```"
    lines = [
        *head,
        "Files: `themes.safetensors` (weights), `themes.json` (classes, parameters, encoder "
        "id), `training.json` (what this card reports).",
        "",
        "## Use",
        "",
        use,
        "",
        "## Data",
        "",
        f"- labels file: `{info['labels_file']}` (sha256 `{info['labels_sha256'][:16]}…`)",
        f"- {info['texts']} distinct texts, {info['texts_without_theme']} without any {what}",
        f"- encoder: `{info['encoder']}`; created {info['created']}",
        "- Ship a head under `models/` only when its training data is ship-safe "
        "(see the `README.md` of the data sets' folder, `CXNLP_DATA`).",
        "",
        f"## Examples per {what} and cross-validated quality",
        "",
    ]
    if cv:
        top1 = cv.get("top1_accuracy")
        top1 = (f", top-1 accuracy **{top1:.3f}** (texts with one {what})"
                if top1 is not None else "")  # fmt: skip
        lines += [f"{cv['folds']}-fold cross-validation on the labels file: micro-F1 "
                  f"**{cv['micro_f1']:.3f}**, macro-F1 **{cv['macro_f1']:.3f}** "
                  f"({what}s with at least one example){top1}.", ""]  # fmt: skip
    elif info.get("cv_asked") == 0:
        lines += ["No cross-validation (`--cv 0`).", ""]
    else:
        lines += ["Too few texts for cross-validation (needs at least 8).", ""]
    lines += [f"| {what} | examples | precision | recall | F1 |", "|---|---:|---:|---:|---:|"]
    for tid, n in counts.items():
        m = per.get(tid)
        cells = (f"{m['precision']:.2f} | {m['recall']:.2f} | {m['f1']:.2f}" if m
                 else "– | – | –")  # fmt: skip
        lines.append(f"| {tid} | {n} | {cells} |")
    lines += ["", f"{what.capitalize()}s with no example keep their zero-shot score. 8-16 "
              f"examples per {what} are already useful; more is better.", ""]  # fmt: skip
    return "\n".join(lines)
