"""Aspect model: one fine-tuned cross-encoder for aspect detection *and* aspect sentiment.

BERT-pair-NLI style (Sun et al. 2019): the input is ``(sentence, aspect)`` and the four
classes are ``none`` (the sentence does not talk about the aspect), ``negative``, ``neutral``
and ``positive``, so one forward pass per (sentence, aspect) answers both "is the aspect
there?" and "how is it judged?". Built on :mod:`cxnlp.training.finetune`.

Labels come as a table (one row per text x aspect, with a polarity column) or as a
SemEval-2014 / MAMS-ACSA XML file. Every aspect of the list that a text is *not* labelled with
becomes a ``none`` pair. ``conflict`` labels are left out (neither a polarity nor "absent").
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from .finetune import FinetuneConfig, PairClassifier, finetune

__all__ = ["ASPECT_CLASSES", "aspect_pairs", "aspect_probabilities", "read_aspect_labels",
           "train_aspects"]  # fmt: skip

#: Output classes of an aspect model, in order.
ASPECT_CLASSES = ("none", "negative", "neutral", "positive")
_POLARITY = {"negative": "negative", "neg": "negative", "-1": "negative", "neutral": "neutral",
             "neu": "neutral", "0": "neutral", "positive": "positive", "pos": "positive",
             "1": "positive"}  # fmt: skip


def aspect_pairs(
    texts: Sequence[str],
    aspects: Sequence[Sequence[tuple[str, str]]],
    names: dict[str, str],
    none_rate: float = 1.0,
    seed: int = 0,
) -> tuple[list[str], list[str], list[str]]:
    """(text, aspect text, class) triples for every text x aspect of ``names``.

    Parameters
    ----------
    aspects : per text, its ``(aspect id, polarity)`` labels
        Aspects outside ``names`` and ``conflict`` polarities are skipped.
    names : dict
        Aspect id -> the text the model reads as the pair (e.g. ``"food"``).
    none_rate : float
        Share of the ``none`` pairs kept (seeded); ``1.0`` keeps all. Lower it when there
        are many aspects and training time matters.
    """
    rng = np.random.default_rng(seed)
    T: list[str] = []
    P: list[str] = []
    L: list[str] = []
    for text, labs in zip(texts, aspects, strict=True):
        given = dict(labs)
        for aid, name in names.items():
            pol = given.get(aid, "none")
            if pol == "conflict" or (pol == "none" and none_rate < 1 and rng.random() >= none_rate):
                continue
            T.append(text)
            P.append(name)
            L.append(pol)
    return T, P, L


def aspect_probabilities(
    model: PairClassifier, texts: Sequence[str], aspect_texts: Sequence[str]
) -> np.ndarray:
    """Probabilities of every text x aspect, shape ``(len(texts), len(aspects), 4)``."""
    T = [t for t in texts for _ in aspect_texts]
    P = [a for _ in texts for a in aspect_texts]
    probs = model.predict_proba(T, P)
    return probs.reshape(len(texts), len(aspect_texts), len(model.classes))


def read_aspect_labels(
    path: str | Path, codeframe: Any, text_column: str | None = None,
    aspect_column: str | None = None, polarity_column: str | None = None, config: Any = None,
) -> pd.DataFrame:  # fmt: skip
    """Read labels into one row per distinct text with its ``(theme id, polarity)`` list.

    An ``.xml`` file is read as SemEval-2014 / MAMS-ACSA (``aspectCategory`` elements);
    otherwise a table with a text, an aspect (theme id or label; an id wins over another
    theme's label spelt the same) and a polarity column, one row per text x aspect (an empty
    aspect cell marks a text about none of them). Texts are cleaned and PII-redacted as
    ``analyze`` does it (``config``'s ``clean`` settings, see
    :func:`~cxnlp.training.themes.label_cleaner`): the model learns from what it will read.

    Raises
    ------
    InputError
        Missing columns, unknown aspect names or polarities (listed with their rows, as
        numbered in the file).
    """
    from ..io import file_not_found
    from .absa import read_aspect_xml
    from .themes import _pick, _theme_names, _where, label_cleaner, row_numbers

    path = Path(path)
    if not path.exists():
        raise file_not_found(path)
    lookup, _, _ = _theme_names(codeframe)
    lines = row_numbers(path, pd.DataFrame())  # XML: no row numbers (names rows by text)
    if path.suffix.lower() == ".xml":
        df = read_aspect_xml(path)
        rows = [(t, c, p) for t, a in zip(df.text, df.aspects, strict=True) for c, p in a or
                [("", "")]]  # fmt: skip
    else:
        from ..io import read_feedback

        frame = read_feedback(path)
        tcol = _pick(frame, text_column, ("text", "sentence", "comment", "review"), "text",
                     "--text-column", path)  # fmt: skip
        acol = _pick(frame, aspect_column, ("aspect", "category", "theme", "label"), "aspect",
                     "--aspect-column", path)  # fmt: skip
        pcol = _pick(frame, polarity_column, ("polarity", "sentiment"), "polarity",
                     "--polarity-column", path)  # fmt: skip
        rows = [("" if pd.isna(t) else str(t), "" if pd.isna(a) else str(a).strip(),
                 "" if pd.isna(p) else str(p).strip().lower())
                for t, a, p in zip(frame[tcol], frame[acol], frame[pcol], strict=True)]  # fmt: skip
        lines = row_numbers(path, frame)
    clean, _ = label_cleaner(config)
    cleaned = {t: clean(t, []) for t in dict.fromkeys(t for t, _, _ in rows) if t.strip()}
    texts = [cleaned.get(t, "") for t, _, _ in rows]
    order: dict[str, list[tuple[str, str]]] = {}
    bad: dict[str, list[int]] = {}
    for i, (text, (_, aspect, pol)) in enumerate(zip(texts, rows, strict=True)):
        if not text:
            continue
        labs = order.setdefault(text, [])
        if not aspect or aspect.lower() in ("none", "-"):
            continue
        tid = lookup.get(aspect.lower())
        p = "conflict" if pol == "conflict" else _POLARITY.get(pol.removesuffix(".0"))
        if tid is None:
            bad.setdefault(f"aspect '{aspect}'", []).append(i)
        elif p is None:
            bad.setdefault(f"polarity '{pol}'", []).append(i)
        elif tid not in dict(labs):
            labs.append((tid, p))
    if bad:
        listed = "; ".join(f"{k} ({_where(v, lines, texts)})" for k, v in bad.items())
        raise InputError(
            f"{path}: {listed}. Aspects are theme ids or labels of codeframe '{codeframe.name}' "
            f"({', '.join(codeframe.ids[:12])}); polarities negative, neutral, positive."
        )
    if not order:
        raise InputError(f"{path}: no labelled text found.")
    polarities = {p for labs in order.values() for _, p in labs if p != "conflict"}
    if len(polarities) == 1:  # as train themes / churn warn on one class
        import warnings

        from ..io import ReadWarning

        warnings.warn(
            f"{path}: every labelled aspect is {polarities.pop()}, so the model learns no "
            "other polarity. Add examples of the others.", ReadWarning, stacklevel=2,
        )  # fmt: skip
    return pd.DataFrame({"text": list(order), "aspects": list(order.values())})


def _check_classes(labels: Any, L: list[str], codeframe: str) -> None:
    """Refuse pairs that teach nothing (one class, or none at all) with what to do."""
    if not set(L) - {"none"}:
        raise InputError(
            f"{labels}: no text has a labelled aspect (an aspect of codeframe '{codeframe}' "
            "with a polarity) to learn from. Add rows of text, aspect and polarity."
        )
    if len(set(L)) < 2:
        raise InputError(
            f"{labels}: every training pair is '{L[0]}'; the model needs two classes or more. "
            "Label other polarities too, or keep the 'none' pairs (--none-rate above 0)."
        )


def train_aspects(
    codeframe: str | Path | Any,
    labels: str | Path,
    out: str | Path,
    val: str | Path | None = None,
    config: FinetuneConfig | None = None,
    none_rate: float = 1.0,
    licence: str = "not recorded",
    text_column: str | None = None,
    aspect_column: str | None = None,
    polarity_column: str | None = None,
    log: Any = None,
    run_config: Any = None,
) -> dict[str, Any]:
    """Fine-tune an aspect model on labelled (text, aspect, polarity) data and save it.

    Parameters
    ----------
    codeframe : Codeframe, shipped name or YAML path
        Its themes are the aspects; the model reads each theme's label as the pair text.
    labels : path
        Table or SemEval/MAMS XML (see :func:`read_aspect_labels`).
    out : path
        Folder for the model and its ``MODEL_CARD.md``; use it with ``themes.aspect_model``.
    val : path, optional
        Validation labels for the epoch choice; default: 10% of the texts held out (seeded).
    none_rate : float
        Share of the ``none`` pairs kept (see :func:`aspect_pairs`).
    run_config : Config, dict or path, optional
        The config of the runs that will use the model: its ``clean`` settings (normalisation,
        PII redaction) are applied to the labels' texts, as ``analyze`` applies them.

    Returns
    -------
    dict
        What ``finetune.json`` holds: counts, chosen epoch, validation scores, time.
    """
    from ..themes import Codeframe

    cfg = config or FinetuneConfig(metric="macro_f1")
    cf = codeframe if isinstance(codeframe, Codeframe) else Codeframe.load(codeframe)
    data = read_aspect_labels(labels, cf, text_column, aspect_column, polarity_column,
                              run_config)  # fmt: skip
    names = {t.id: t.label for t in cf.themes}
    if val is not None:
        vdata = read_aspect_labels(val, cf, text_column, aspect_column, polarity_column,
                                   run_config)  # fmt: skip
    else:
        rng = np.random.default_rng(cfg.seed)
        held = rng.random(len(data)) < 0.1 if len(data) >= 20 else np.zeros(len(data), bool)
        vdata, data = data[held], data[~held]
    T, P, L = aspect_pairs(data.text, data.aspects, names, none_rate, cfg.seed)
    _check_classes(labels, L, cf.name)
    vt = aspect_pairs(vdata.text, vdata.aspects, names, 1.0, cfg.seed) if len(vdata) else None
    labels = Path(labels)
    info = {
        "title": f"Aspect model for codeframe `{cf.name}`",
        "kind": "aspects",
        "pair": "aspect label",
        "codeframe": cf.name,
        "aspects": names,
        "data": f"`{labels.name}` (sha256 {hashlib.sha256(labels.read_bytes()).hexdigest()[:16]}"
        f"…): {len(data)} texts, {len(T)} pairs"
        + (f"; validation {len(vdata)} texts" if len(vdata) else ""),
        "licence": licence,
        "counts": {c: L.count(c) for c in ASPECT_CLASSES},
    }
    model = finetune(T, L, ASPECT_CLASSES, pairs=P,
                     val=(vt[0], vt[1], vt[2]) if vt else None, config=cfg, info=info,
                     log=log)  # fmt: skip
    model.save(out)
    return model.info
