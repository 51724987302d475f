"""Train a theme head or a churn-reason head from labelled examples.

``cxnlp train themes`` and ``cxnlp train churn`` share one code path: a churn-reason list is
structurally a flat codeframe (one "theme" per reason, ``other`` being "none of them"), so
both heads are a :class:`~cxnlp.themes.CodeframeClassifier` fitted by :func:`_fit_and_save`.

A labels file is a CSV/XLSX/Parquet/JSONL table with a text column and a label column: one
row per (text, theme), or several themes in one cell separated by ``;``. Cells may hold ids
or labels (case-insensitive; an id wins over another theme's label spelt the same); an empty
cell or ``none`` (for churn also ``other``) marks a text with no theme/reason (a useful
negative). Texts are cleaned and PII-redacted as ``analyze`` does it before they are embedded
or become n-gram features, so the saved head holds no personal data. The head is saved as
safetensors + JSON with a ``MODEL_CARD.md`` (data, counts per label, cross-validated metrics,
and the files' SHA-256, checked on load); ``themes.model: <folder>`` or
``link.churn_model: <folder>`` in a config then uses it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
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


def _theme_names(codeframe: Any) -> tuple[dict[str, str], dict[str, list[str]], dict[str, str]]:
    """How a labels cell names a theme: lower-cased id or label -> theme id.

    Ids are the stable names, so an id always means its own theme, even when another theme's
    label is spelt the same (``delivery`` labelled "Shipping" and a theme ``shipping``).
    Also returned: labels that several themes share (they name none of them) and labels
    hidden by an id (name -> the theme whose label it is), for the messages.
    """
    by_label: dict[str, list[str]] = {}
    for t in codeframe.themes:
        by_label.setdefault(t.label.strip().lower(), []).append(t.id)
    lookup = {name: ids[0] for name, ids in by_label.items() if len(ids) == 1}
    shared = {name: ids for name, ids in by_label.items() if len(ids) > 1}
    hidden = {t.id: lookup[t.id] for t in codeframe.themes if lookup.get(t.id, t.id) != t.id}
    lookup.update({t.id: t.id for t in codeframe.themes})  # ids are lower case by rule
    return lookup, shared, hidden


def _name_hint(name: str, lookup: dict[str, str], shared: dict[str, list[str]]) -> str:
    """Why a name is unknown, when it shows: a shared label, a pandas list, ',' for ';'."""
    low = name.strip().lower()
    if low in shared:
        return f" [the label of {', '.join(shared[low])}: write the id]"
    if low.startswith("[") and low.endswith("]"):
        parts = [p.strip(" '\"") for p in low[1:-1].split(",") if p.strip(" '\"")]
        fix = f"'{';'.join(parts)}'" if parts else "an empty cell"
        return f" [a Python list written to the file: write {fix}]"
    parts = [p.strip() for p in re.split(r"[,|/]", low)]
    if len(parts) > 1 and all(p in lookup for p in parts):
        return f" [several themes? separate them with ';': '{';'.join(parts)}']"
    return ""


def source_rows(path: Path, frame: pd.DataFrame) -> list[int] | None:
    """The line (CSV/TSV) or sheet row (XLSX) of the file that each row of ``frame`` is on.

    The reader skips blank lines and empty rows, and a quoted cell may span lines, so a
    row's position in the table is not the number an editor or a spreadsheet shows. None
    when the numbers cannot be matched with the table (another format, or a file the
    re-reading here sees otherwise): the messages then name rows by their text.
    """
    fmt = frame.attrs.get("format")
    try:
        if fmt == "csv":
            rows = _csv_rows(path, frame.attrs)
        elif fmt == "xlsx":
            rows = _xlsx_rows(path, frame.attrs)
        else:
            return None
    except Exception:  # noqa: BLE001 - numbers are a courtesy; the messages fall back to text
        return None
    rows = rows[frame.attrs.get("title_rows", 0) + frame.attrs.get("header_rows", 1) :]
    return rows if len(rows) == len(frame) else None


def row_numbers(path: Path, frame: pd.DataFrame) -> Callable[[], list[int] | None]:
    """:func:`source_rows` when first asked for: the file is read again only when a message
    names rows, not on every clean read."""
    return functools.cache(lambda: source_rows(path, frame))


def _csv_rows(path: Path, attrs: dict[str, Any]) -> list[int]:
    """First line of each record that has a non-blank field."""
    import csv

    rows = []
    with open(path, encoding=attrs.get("encoding") or "utf-8", errors="replace", newline="") as fh:
        reader = csv.reader(fh, delimiter=attrs.get("delimiter") or "\x1f")
        start = 1
        for record in reader:
            if any(field.strip() for field in record):
                rows.append(start)
            start = reader.line_num + 1
    return rows


def _xlsx_rows(path: Path, attrs: dict[str, Any]) -> list[int]:
    """Sheet row numbers of the rows that have a non-blank cell."""
    import openpyxl

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl's style chatter
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = wb[attrs["sheet"]] if attrs.get("sheet") else wb.worksheets[0]
        return [n for n, row in enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1)
                if any(v is not None and str(v).strip() for v in row)]  # fmt: skip
    finally:
        wb.close()


def _where(rows: Sequence[int], numbers: Callable[[], list[int] | None],
           texts: Sequence[str]) -> str:
    """``rows 4, 9`` (the file's numbering, from ``numbers()``), or the rows' texts when those
    are unknown."""
    more = "..." if len(rows) > 5 else ""
    if (lines := numbers()) is not None:
        return f"rows {', '.join(str(lines[i]) for i in rows[:5])}{more}"
    shown = [repr(texts[i] if len(texts[i]) <= 40 else texts[i][:39] + "…") if texts[i]
             else f"table row {i + 1}" for i in rows[:5]]  # fmt: skip
    return f"text {', '.join(shown)}{more}"


def label_cleaner(config: Any = None) -> tuple[Any, dict[str, Any]]:
    """``clean(text, found) -> text`` as ``analyze`` cleans a text, and its settings.

    Labels get the same normalisation and PII redaction as the texts of a run: a head keeps
    what it learns from (the n-gram vocabulary is plain words), which must hold no personal
    data, and it must learn from texts as ``analyze`` will show them (``[PHONE]``, not a
    number). ``config`` is the run's config (object, dict or YAML path; default: shipped).
    """
    from ..pipeline import Analyzer

    analyzer = Analyzer(config)
    c = analyzer.config.clean
    return analyzer._clean_text, {"normalize": c.normalize, "redact_pii": c.redact_pii}


def read_theme_labels(
    path: str | Path, codeframe: Any, text_column: str | None = None,
    theme_column: str | None = None, *, what: str = "theme",
    none_values: frozenset[str] = frozenset(), config: Any = None,
) -> pd.DataFrame:  # fmt: skip
    """Read a labels file into one row per distinct text with its list of theme ids.

    Texts are cleaned as ``analyze`` cleans them (:func:`label_cleaner`) before anything
    else, so personal data never reaches a head. A cell names themes by id or label
    (case-insensitive); an id wins over another theme's label spelt the same (warned).

    Parameters
    ----------
    what : str
        ``"theme"``, or ``"reason"`` for a churn-reason labels file: names the label column
        looked for (``churn_reason``, ``reason``...) and the option in messages; a text with
        several reasons is warned about (one row per text, one reason each).
    none_values : frozenset of str
        Extra cell values meaning "no label" (churn: ``other``), besides empty and ``none``.
    config : Config, dict or path, optional
        The run's config whose ``clean`` settings the texts get (default: shipped).

    Returns
    -------
    DataFrame
        ``text`` and ``themes`` (list of theme ids of ``codeframe``, possibly empty);
        ``attrs["clean"]`` holds the cleaning settings and the PII kinds redacted (counts).

    Raises
    ------
    InputError
        Missing columns, or names that are neither ids nor labels of the codeframe
        (all of them listed with the rows they occur on, as numbered in the file).
    """
    from ..io import read_feedback

    path = Path(path)
    frame = read_feedback(path)  # a missing file is its "File not found"
    tcol = _pick(frame, text_column, _TEXT_NAMES, "text", "--text-column", path)
    names = _REASON_NAMES if what == "reason" else _THEME_NAMES
    ccol = _pick(frame, theme_column, names, what, f"--{what}-column", path)
    none = _NONE | {v.lower() for v in none_values}
    lookup, shared, hidden = _theme_names(codeframe)
    clean, settings = label_cleaner(config)
    found: list[str] = []
    texts = ["" if pd.isna(t) else clean(str(t), found) for t in frame[tcol]]
    lines = row_numbers(path, frame)
    order: dict[str, list[str]] = {}
    first: dict[str, int] = {}
    unknown: dict[str, list[int]] = {}
    textless: list[int] = []
    read_as_id: dict[str, str] = {}  # name as written -> theme id
    for i, (text, cell) in enumerate(zip(texts, frame[ccol], strict=True)):
        if not text:
            if not pd.isna(cell) and str(cell).strip():
                textless.append(i)
            continue
        themes = order.setdefault(text, [])
        first.setdefault(text, i)
        for raw in ("" if pd.isna(cell) else str(cell)).split(";"):
            name = raw.strip()
            if name.lower() in none:
                continue
            tid = lookup.get(name.lower())
            if tid is None:
                unknown.setdefault(name, []).append(i)
                continue
            if tid in hidden and name != tid:  # "Shipping": the id, or the label it also is?
                read_as_id.setdefault(name, tid)
            if tid not in themes:
                themes.append(tid)
    if unknown:
        listed = "; ".join(f"'{k}' ({_where(v, lines, texts)}){_name_hint(k, lookup, shared)}"
                           for k, v in unknown.items())  # fmt: skip
        where = "the churn-reason list" if what == "reason" else f"codeframe '{codeframe.name}'"
        extra = "".join(f", {v}" for v in sorted(none_values))
        raise InputError(
            f"{path}: {len(unknown)} {what} name(s) not in {where}: {listed}. "
            f"Use {what} ids or labels ({', '.join(codeframe.ids[:12])}"
            f"{', ...' if len(codeframe.ids) > 12 else ''}{extra}), several in one cell "
            "separated by ';'."
        )
    if not order:
        raise InputError(f"{path}: no labelled text found in column '{tcol}'.")
    if textless:
        warnings.warn(
            f"{path}: {len(textless)} row(s) have a {what} but no text in '{tcol}' and were "
            f"skipped ({_where(textless, lines, texts)}).", ReadWarning, stacklevel=2,
        )  # fmt: skip
    for name, tid in read_as_id.items():
        other = hidden[tid]
        warnings.warn(
            f"{path}: '{name}' was read as theme '{tid}' (its id), though it is also the label "
            f"of theme '{other}'. Write '{other}' where you meant that one.",
            ReadWarning, stacklevel=2,
        )  # fmt: skip
    if what == "reason" and (several := [first[t] for t, r in order.items() if len(r) > 1]):
        warnings.warn(
            f"{path}: {len(several)} text(s) have several reasons ({_where(several, lines, texts)}"
            "); the head picks one reason per text, so each of them counts 1/n toward its "
            "reasons. Keep one reason per text (the main one) for a clearer head.",
            ReadWarning, stacklevel=2,
        )  # fmt: skip
    if always := set.intersection(*(set(t) for t in order.values())):
        warnings.warn(
            f"{path}: every labelled text is coded {', '.join(sorted(always))}, so the head has "
            f"no example without it. Add texts without it (and texts with no {what}).",
            ReadWarning, stacklevel=2,
        )  # fmt: skip
    out = pd.DataFrame({"text": list(order), "themes": list(order.values())})
    out.attrs["clean"] = {**settings, "redacted": dict(sorted(Counter(found).items()))}
    return out


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
        "clean": data.attrs.get("clean", {}),
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
    config: Any = None,
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
    config : Config, dict or path, optional
        The config of the runs that will use the head: its ``clean`` settings (normalisation,
        PII redaction) are applied to the labels' texts, as ``analyze`` applies them.

    Returns
    -------
    dict
        What the model card reports: counts per theme and cross-validated metrics.
    """
    from ..encode import Encoder
    from ..themes import Codeframe, CodeframeClassifier

    cf = codeframe if isinstance(codeframe, Codeframe) else Codeframe.load(codeframe)
    data = read_theme_labels(labels, cf, text_column, theme_column, config=config)
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
    config: Any = None,
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
    config : Config, dict or path, optional
        Whose ``clean`` settings the labels' texts get (as in :func:`train_themes`).

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
                             what="reason", none_values=frozenset({"other"}),
                             config=config)  # fmt: skip
    return _fit_and_save(head, data, labels, out, cv, seed, kind="churn")


#: Fewer examples than this make a label's cross-validated figures rough (marked in the card).
FEW_EXAMPLES = 10


def _clean_note(clean: dict[str, Any] | None) -> str:
    """How the labels' texts were cleaned, for the card: what a reviewer of the data asks."""
    if not clean:
        return "not recorded"
    done = ["normalised"] if clean.get("normalize") else []
    if clean.get("redact_pii"):
        found = clean.get("redacted") or {}
        spans = ", ".join(f"{n} {kind}" for kind, n in found.items()) or "none found"
        done.append(f"personal data redacted ({spans})")
    else:
        done.append("personal data NOT redacted (`clean.redact_pii: false`)")
    return ", ".join(done)


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
        fitted = (
            'One multinomial logistic regression over the themes and "none" (balanced '
            "classes; trained with `--exclusive`: one theme per text or none)"
            if info.get("params", {}).get("exclusive")
            else "One-vs-rest logistic regressions (one per theme)"
        )
        head = [
            f"# Theme head for codeframe `{info['codeframe']}`",
            "",
            f"{fitted} on the shared encoder's embeddings plus the zero-shot similarities to "
            "each theme, averaged with the same model on word n-grams, and blended with the "
            "zero-shot score by how many labelled examples each theme had "
            "(`cxnlp.themes.CodeframeClassifier.fit`).",
        ]
        use = f"```yaml\nthemes:\n  model: {out.as_posix()}\n```"
    lines = [
        *head,
        "",
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
        f"- texts cleaned as `analyze` cleans them: {_clean_note(info.get('clean'))}",
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
                if top1 is not None else f"; no text has exactly one {what}, so no top-1 "
                "accuracy")  # fmt: skip
        lines += [f"{cv['folds']}-fold cross-validation on the labels file ({info['texts']} "
                  f"texts, {info['texts_without_theme']} of them without any {what}): micro-F1 "
                  f"**{cv['micro_f1']:.3f}**, macro-F1 **{cv['macro_f1']:.3f}** "
                  f"({what}s with at least one example){top1}.", ""]  # fmt: skip
    elif info.get("cv_asked") == 0:
        lines += ["No cross-validation (`--cv 0`).", ""]
    else:
        lines += ["Too few texts for cross-validation (needs at least 8).", ""]
    lines += [f"| {what} | examples | precision | recall | F1 | note |",
              "|---|---:|---:|---:|---:|---|"]  # fmt: skip
    few = False
    for tid, n in counts.items():
        m = per.get(tid)
        cells = (f"{m['precision']:.2f} | {m['recall']:.2f} | {m['f1']:.2f}" if m
                 else "– | – | –")  # fmt: skip
        rough = bool(m) and n < FEW_EXAMPLES
        few |= rough
        lines.append(f"| {tid} | {n} | {cells} | {f'n < {FEW_EXAMPLES}: rough' if rough else ''} |")
    lines.append("")
    if few:
        lines += [f"Figures from fewer than {FEW_EXAMPLES} examples are rough: one text more "
                  "or less moves them a lot (1 example gives a recall of 0 or 1).", ""]  # fmt: skip
    lines += [f"{what.capitalize()}s with no example keep their zero-shot score. 8-16 "
              f"examples per {what} are already useful; more is better.", ""]  # fmt: skip
    return "\n".join(lines)
