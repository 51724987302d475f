"""Linking themes to decisions: journey touchpoints and churn reasons.

Touchpoints
    Every mention gets the touchpoint of its theme (the codeframe's ``touchpoint`` link,
    overridden by ``link.touchpoints: {theme_id: touchpoint}``). A journey-stage / channel
    column of the export (``SURVEY_SUB_TYPE`` = "Order", "First Payment", ...; "store",
    "app") is normalised to the configured touchpoint list by :func:`normalize_touchpoint`
    (exact, alias, word overlap, synonym, then ``difflib`` fuzzy match). :func:`touchpoint_table`
    summarises volume, sentiment mix, mean sentiment score and the score metric with its
    interval per touchpoint, in journey order (the codeframe's ``touchpoints`` list).

Churn reasons
    Responses from churned or at-risk customers (:func:`at_risk`: a churn/cancel column, a
    cancellation-survey question, a detractor/dissatisfied score, or, with no score or churn
    column at all, negative text) get ``churn_reason``, ``churn_confidence`` and
    ``churn_evidence`` from two sources blended by ``link.theme_weight``: the theme → reason
    map applied to the response's mentions, and a direct zero-shot classifier over the reason
    descriptions (:class:`ChurnReasonClassifier`, a :class:`~cxnlp.themes.CodeframeClassifier`
    on a small codeframe built from the reasons, trainable the same way).
    :func:`churn_table` ranks the reasons with counts, shares and Wilson intervals.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import ConfigError, ModelError
from .metrics import (
    SCORE_BOUNDS,
    _as_numeric,
    mean_interval,
    narrow,
    score_metric,
    wilson_interval,
)
from .results import analysed
from .themes import DEFAULT_CHURN_REASONS, Codeframe, CodeframeClassifier

__all__ = [
    "CHURN_CODEFRAME",
    "CHURN_PARAMS",
    "REASON_TEXT",
    "THEME_WEIGHT",
    "ChurnReasonClassifier",
    "assign_churn_reasons",
    "at_risk",
    "churn_reasons_of",
    "churn_table",
    "link_results",
    "normalize_touchpoint",
    "primary_score",
    "theme_weight_for",
    "touchpoint_table",
    "touchpoints_of",
]

#: Label, description (customer's words), examples and keywords of the default churn reasons.
REASON_TEXT: dict[str, dict[str, Any]] = {
    "price_value": {
        "label": "Price & value",
        "description": "It is too expensive, prices went up, poor value for money, fees.",
        "examples": ["too expensive for what you get", "the price keeps going up",
                     "found it cheaper elsewhere"],
        "keywords": ["price", "expensive", "cost", "costs", "fee", "fees", "value", "overpriced"],
    },
    "competitor": {
        "label": "Switching to a competitor",
        "description": "I am switching or moving to another company or provider.",
        "examples": ["I'm switching to another provider", "going with your competitor",
                     "will fly another airline from now on"],
        "keywords": ["switch", "switching", "competitor", "another provider", "never again"],
    },
    "poor_service": {
        "label": "Poor service",
        "description": "Customer service or staff were rude, unhelpful, slow or unreachable.",
        "examples": ["customer service is terrible", "on hold for two hours",
                     "nobody called me back", "the staff were rude"],
        "keywords": ["customer service", "rude", "on hold", "unhelpful", "staff", "agent"],
    },
    "product_quality": {
        "label": "Product quality & reliability",
        "description": "It does not work reliably: faulty, broken, delayed, cancelled, poor.",
        "examples": ["it keeps breaking down", "constant outages", "poor quality",
                     "delayed again", "it never works"],
        "keywords": ["broken", "faulty", "quality", "unreliable", "outage", "delayed",
                     "cancelled"],
    },
    "missing_features": {
        "label": "Missing features",
        "description": "It lacks a feature, option, content or choice that I need.",
        "examples": ["it doesn't have the feature I need", "no option to", "not enough channels"],
        "keywords": ["feature", "features", "option", "missing", "lacks"],
    },
    "billing_problems": {
        "label": "Billing problems",
        "description": "Wrong bills, overcharged, double charged, refunds not paid.",
        "examples": ["I was charged twice", "my bill is wrong", "still waiting for my refund"],
        "keywords": ["bill", "billing", "charged", "overcharged", "refund", "invoice",
                     "direct debit"],
    },
    "delivery_problems": {
        "label": "Delivery problems",
        "description": "The delivery, installation or my bag did not arrive, came late or lost.",
        "examples": ["my order never arrived", "the engineer never turned up",
                     "you lost my luggage"],
        "keywords": ["delivery", "delivered", "arrived", "lost", "shipping", "installation"],
    },
    "too_hard_to_use": {
        "label": "Too hard to use",
        "description": "The website, app, booking or process is confusing and too hard to use.",
        "examples": ["the website keeps crashing", "impossible to change my booking online",
                     "the app is so confusing"],
        "keywords": ["website", "app", "online", "confusing", "complicated", "booking", "log in"],
    },
    "no_longer_needed": {
        "label": "No longer needed",
        "description": "I don't need it any more, I'm moving or my circumstances changed.",
        "examples": ["I'm moving house", "I don't need it anymore", "no longer use it"],
        "keywords": ["moving", "no longer need", "don't need", "not needed"],
    },
    "other": {"label": "Other", "description": "Another reason."},
}

_POLARITY = {"negative": 1.0, "mixed": 0.7, "neutral": 0.5, "positive": 0.15}
_CANCEL_QUESTION = re.compile(
    r"cancel|churn|leav(e|ing)|why did you (leave|go)|clos(e|ing) (your|the) account|"
    r"reason for (leaving|cancell?ing)",
    re.I,
)
#: Word groups that let an export value reach a touchpoint with no word in common.
_SYNONYMS: list[set[str]] = [
    {"order", "ordering", "purchase", "checkout", "buy", "buying", "sale", "sales", "signup",
     "booking", "book", "reservation"},
    {"payment", "payments", "pay", "bill", "billing", "invoice", "fees", "charges"},
    {"delivery", "shipping", "shipment", "dispatch", "installation", "install", "received",
     "fulfilment", "fulfillment"},
    {"service", "use", "usage", "inuse", "product", "experience", "inflight"},
    {"support", "helpdesk", "contact", "call", "callcentre", "chat", "complaint", "care"},
    {"app", "mobile", "web", "website", "online", "digital"},
    {"store", "shop", "branch", "instore", "retail"},
    {"contract", "renewal", "cancellation", "cancel", "retention", "account"},
    {"onboarding", "welcome", "activation", "setup"},
    {"equipment", "device", "router", "hardware", "kit"},
]


def _key(value: Any) -> str:
    """Normalised spelling of a label: lower case words joined by ``_``."""
    s = re.sub(r"([a-z])([A-Z])", r"\1 \2", str(value).strip())
    return "_".join(re.findall(r"[a-z0-9]+", s.lower()))


# --------------------------------------------------------------------------- touchpoints


def touchpoints_of(codeframe: Codeframe | None, overrides: Mapping[str, str] | None = None
                   ) -> tuple[list[str], dict[str, str]]:
    """Journey order and the theme → touchpoint map (config overrides win).

    Returns ``(order, mapping)``: the codeframe's ``touchpoints`` list (then any touchpoint
    only named by a theme or an override) and ``{theme_id: touchpoint}``.
    """
    mapping: dict[str, str] = {}
    order: list[str] = list(codeframe.touchpoints or []) if codeframe is not None else []
    if codeframe is not None:
        mapping = {t.id: t.touchpoint for t in codeframe.themes if t.touchpoint}
    mapping.update(dict(overrides or {}))
    for tp in mapping.values():
        if tp not in order:
            order.append(tp)
    return order, mapping


def normalize_touchpoint(
    value: Any,
    touchpoints: Sequence[str],
    aliases: Mapping[str, str] | None = None,
    cutoff: float = 0.75,
) -> str | None:
    """Map one export value (``"First Payment"``, ``"in store"``) to a configured touchpoint.

    Tried in order, on normalised spellings (lower case, words joined by ``_``):

    1. exact match (``"Service in Use"`` → ``service_in_use``);
    2. ``aliases`` (``{export value: touchpoint}``, spelled either way);
    3. shared word (``"Equipment Received"`` → ``equipment``);
    4. shared synonym group (``"Order"`` → ``sales``/``booking``; ``"First Payment"`` →
       ``billing``; ``"store"`` → ``branch``);
    5. ``difflib`` similarity ≥ ``cutoff`` (``"instalation"`` → ``installation``).

    Returns the touchpoint, the value's own normalised spelling when nothing matches (so no
    response is lost), or ``None`` for a missing value. An empty ``touchpoints`` list keeps
    the normalised value.

    Examples
    --------
    >>> tps = ["sales", "installation", "equipment", "service_in_use", "billing"]
    >>> [normalize_touchpoint(v, tps) for v in ["Order", "First Payment", "Service in Use"]]
    ['sales', 'billing', 'service_in_use']
    """
    if value is None or (isinstance(value, float) and np.isnan(value)) or str(value).strip() == "":
        return None
    key = _key(value)
    keys = {_key(t): t for t in touchpoints}
    if not keys:
        return key
    if key in keys:
        return keys[key]
    for a, tp in (aliases or {}).items():
        if _key(a) == key:
            return tp
    words = set(key.split("_")) - {"in", "of", "the", "a", "and", "first", "my"}
    for k, tp in keys.items():
        if words & set(k.split("_")):
            return tp
    for group in _SYNONYMS:
        if words & group or key.replace("_", "") in group:
            for k, tp in keys.items():
                if set(k.split("_")) & group or k.replace("_", "") in group:
                    return tp
    close = difflib.get_close_matches(key, list(keys), n=1, cutoff=cutoff)
    return keys[close[0]] if close else key


# --------------------------------------------------------------------------- scores


def primary_score(columns: Mapping[str, Any], preferred: str | None = None,
                  responses: pd.DataFrame | None = None) -> tuple[str | None, str | None]:
    """The outcome score column and its kind: ``preferred``, else NPS, CSAT, CES, rating,
    recommend (first column of the first kind present). ``(None, None)`` without scores."""
    scores = dict(columns.get("scores") or {})
    if preferred:
        if preferred not in scores:
            have = ", ".join(scores) or "none"
            raise KeyError(f"drivers.score_column {preferred!r} is not a score column "
                           f"(score columns: {have}). Map it in io.score_columns first.")
        return preferred, scores[preferred]
    for kind in ("nps", "csat", "ces", "rating", "recommend"):
        for col, k in scores.items():
            if k == kind and (responses is None or col in responses):
                return col, kind
    return None, None


def _low_score(values: pd.Series, kind: str) -> tuple[np.ndarray, list[str]]:
    """Which scores mark a customer at risk, and the reason text for each."""
    x = _as_numeric(values).to_numpy()
    if kind == "nps":
        low, name = x <= 6, "detractor (NPS {})"
    elif kind == "csat":
        low, name = x <= 2, "dissatisfied (CSAT {})"
    elif kind == "ces":
        low, name = x <= 3, "high effort (CES {})"
    elif kind == "rating":
        low, name = x <= 2, "low rating ({})"
    else:
        from .metrics import _yes_no

        flags = np.array([_yes_no(v) for v in values], dtype=float)
        return flags == 0, ["would not recommend"] * len(values)
    low = np.isfinite(x) & low
    return low, [name.format(f"{v:g}") if np.isfinite(v) else "" for v in x]


def _truthy(values: pd.Series) -> np.ndarray:
    yes = {"yes", "y", "true", "t", "1", "1.0", "churned", "cancelled", "canceled"}
    return values.astype(str).str.strip().str.lower().isin(yes).to_numpy()


def at_risk(
    responses: pd.DataFrame,
    columns: Mapping[str, Any],
    *,
    churn_column: str | None = None,
    churn_inverted: bool = False,
    scores: bool = True,
    negative_text: bool = True,
) -> pd.Series:
    """Why each response counts as churned / at risk (``None``: it does not).

    Signals, all that apply joined by ``"; "``:

    - ``churn_column`` true (yes/1/true/churned; inverted for a retained/active column);
    - a cancellation-survey question: the text column's header mentions cancel, leave,
      churn or closing the account (every response is at risk);
    - with ``scores``: a detractor NPS (0-6), CSAT ≤ 2, CES ≤ 3 (of 7), rating ≤ 2 or a
      "no" to recommend, from every score column;
    - with ``negative_text`` and neither a score nor a churn column: negative text sentiment.
    """
    n = len(responses)
    why: list[list[str]] = [[] for _ in range(n)]
    if churn_column and churn_column in responses:
        flag = _truthy(responses[churn_column])
        if churn_inverted:
            flag = ~flag & responses[churn_column].notna().to_numpy()
        for i in np.flatnonzero(flag):
            why[i].append(f"churn column {churn_column!r}")
    texts = list(columns.get("text") or [])
    if texts and _CANCEL_QUESTION.search(str(texts[0])):
        for w in why:
            w.append(f"cancellation question {texts[0]!r}")
    score_cols = {c: k for c, k in dict(columns.get("scores") or {}).items() if c in responses}
    if scores:
        for col, kind in score_cols.items():
            low, names = _low_score(responses[col], kind)
            for i in np.flatnonzero(low):
                why[i].append(names[i])
    if negative_text and not score_cols and not churn_column and "sentiment" in responses:
        neg = (responses["sentiment"].astype(str) == "negative").to_numpy()
        for i in np.flatnonzero(neg):
            if not why[i]:
                why[i].append("negative text (no score or churn column)")
    return pd.Series(["; ".join(w) if w else None for w in why], index=responses.index,
                     dtype=object, name="at_risk")


# --------------------------------------------------------------------------- churn reasons


def churn_reasons_of(codeframe: Codeframe | None,
                     configured: Sequence[str] | Mapping[str, str] | None = None
                     ) -> dict[str, dict[str, Any]]:
    """The reason list with label/description/examples/keywords for each id.

    ``configured`` (``link.churn_reasons``) wins; then the codeframe's ``churn_reasons``;
    then :data:`~cxnlp.themes.DEFAULT_CHURN_REASONS`. A ``{id: description}`` mapping
    replaces the descriptions; unknown ids get their id as label and description.
    """
    if configured:
        ids = list(configured)
    elif codeframe is not None and codeframe.churn_reasons:
        ids = list(codeframe.churn_reasons)
    else:
        ids = list(DEFAULT_CHURN_REASONS)
    if "other" not in ids:
        ids.append("other")
    out = {}
    for rid in ids:
        base = dict(REASON_TEXT.get(rid) or {})
        label = base.get("label") or rid.replace("_", " ").capitalize()
        desc = base.get("description") or label
        if isinstance(configured, Mapping) and configured.get(rid):
            desc = str(configured[rid])
            base["examples"] = []
        out[rid] = {"label": label, "description": desc,
                    "examples": list(base.get("examples") or []),
                    "keywords": list(base.get("keywords") or [])}
    return out


#: Default ``link.theme_weight`` with the zero-shot and with a trained direct classifier. The
#: trained value was chosen on the airline *train* split (head fitted on a random 75 %, scored
#: on the rest; ``benchmarks/drivers.py --blend-study``: macro-F1 0.690 / 0.716 / 0.701 / 0.690
#: at 0 / 0.25 / 0.5 / 0.75): a trained head knows the reasons better than the theme map.
THEME_WEIGHT = {"zero-shot": 0.5, "trained": 0.25}

#: Columns of the churn-reason ranking (:func:`churn_table`).
CHURN_COLUMNS = ["rank", "reason", "label", "count", "n", "share", "low", "high",
                 "mean_confidence", "example", "small"]
#: Columns of the journey view (:func:`touchpoint_table`).
TOUCHPOINT_COLUMNS = ["source", "touchpoint", "order", "responses", "share", "mentions",
                      "negative", "neutral", "positive", "mixed", "sentiment_score",
                      "sentiment_low", "sentiment_high", "score_metric", "score", "score_low",
                      "score_high", "score_n", "small", "sentiment_n", "sentiment_small",
                      "score_small"]


def theme_weight_for(classifier: Any, configured: float | None = None) -> float:
    """``link.theme_weight`` when set, else :data:`THEME_WEIGHT` for this classifier."""
    if configured is not None:
        return configured
    trained = classifier is not None and getattr(classifier, "trained_", False)
    return THEME_WEIGHT["trained" if trained else "zero-shot"]


#: Name of the flat codeframe a churn-reason head is built on (how a saved one is recognised).
CHURN_CODEFRAME = "churn_reasons"
#: Defaults of the churn head: one reason per sentence, no margin rule, a lower threshold.
CHURN_PARAMS: dict[str, Any] = {"max_themes": 1, "margin": 1.0, "threshold": 0.35,
                                "exclusive": True}


class ChurnReasonClassifier:
    """Zero-shot (and trainable) churn-reason classifier over sentence embeddings.

    A churn-reason list is structurally a flat codeframe, so this is a
    :class:`~cxnlp.themes.CodeframeClassifier` on a codeframe with one theme per reason
    (``other`` excluded: it is what remains when no reason is confident). Zero-shot it scores
    sentences against the reason descriptions; :meth:`fit` (or ``cxnlp train churn``, see
    :func:`cxnlp.training.themes.train_churn`) trains it like a theme head.

    Parameters
    ----------
    reasons : dict
        ``{id: {"label", "description", "examples", "keywords"}}`` from
        :func:`churn_reasons_of`.
    encoder : Encoder, optional
        The shared encoder.
    **params
        Passed to :class:`~cxnlp.themes.CodeframeClassifier` (``threshold``,
        ``temperature``...) over :data:`CHURN_PARAMS`.
    """

    def __init__(self, reasons: Mapping[str, Mapping[str, Any]], encoder: Any = None,
                 **params: Any) -> None:
        self.reasons = reasons
        self.encoder = encoder
        self.params = params

    @property
    def classifier_(self) -> CodeframeClassifier:
        if getattr(self, "_clf", None) is None:
            themes = [{"id": rid, "label": r["label"], "description": r["description"],
                       "examples": r.get("examples") or [], "keywords": r.get("keywords") or []}
                      for rid, r in self.reasons.items() if rid != "other"]
            cf = Codeframe.from_dict({"name": CHURN_CODEFRAME, "themes": themes},
                                     source="<churn reasons>")
            self._clf = CodeframeClassifier(cf, self.encoder, **{**CHURN_PARAMS, **self.params})
        return self._clf

    @property
    def reason_ids_(self) -> list[str]:
        return self.classifier_.theme_ids_

    @property
    def trained_(self) -> bool:
        """Whether the head was fitted on labelled examples (else it is zero-shot)."""
        return hasattr(self.classifier_, "coef_")

    def decision_scores(self, X: np.ndarray, texts: Sequence[str] | None = None) -> np.ndarray:
        """Confidence in [0, 1] per (embedding, reason), columns in :attr:`reason_ids_` order."""
        return self.classifier_.decision_scores(X, texts)

    def fit(self, X: np.ndarray, y: Sequence[str], texts: Sequence[str] | None = None
            ) -> ChurnReasonClassifier:
        """Train from labelled embeddings; ``y`` holds one reason id per row (``other``: none)."""
        labels = [[] if r == "other" else [r] for r in y]
        self.classifier_.fit(np.asarray(X, np.float32), labels, texts)
        return self

    def save(self, path: Any, card: str | None = None) -> Any:
        """Write ``themes.safetensors`` + ``themes.json`` and a ``MODEL_CARD.md`` with their
        SHA-256 (``card`` is its body; ``cxnlp train churn`` writes a full one)."""
        from .training.cards import write_card

        out = self.classifier_.save(path)
        write_card(out, card or "# Churn-reason head\n", ["themes.safetensors", "themes.json"])
        return out

    @classmethod
    def load(cls, path: Any, encoder: Any = None) -> ChurnReasonClassifier:
        """Load a head written by :meth:`save` or ``cxnlp train churn``.

        Raises
        ------
        ModelError
            The folder is missing or is not a churn-reason head, or a file does not match
            the SHA-256 in its model card.
        """
        from .training.cards import verify_checksums

        folder = Path(path)
        hint = "retrain it with `cxnlp train churn --labels FILE --out DIR`"
        if not folder.is_dir():
            raise ModelError(f"Churn-reason model folder not found: {folder}. Set "
                             f"link.churn_model to the --out folder of `cxnlp train churn`.")
        verify_checksums(folder, ["themes.safetensors", "themes.json"], "churn-reason model",
                         hint)
        clf = CodeframeClassifier.load(folder, encoder)
        if clf.codeframe_.name != CHURN_CODEFRAME:
            raise ModelError(
                f"{folder} holds a theme head for codeframe '{clf.codeframe_.name}', not a "
                f"churn-reason head: use it as themes.model, or {hint}.")
        reasons = {t.id: {"label": t.label, "description": t.description,
                          "examples": t.examples, "keywords": t.keywords}
                   for t in clf.codeframe_.themes}
        model = cls(reasons, encoder)
        model._clf = clf
        return model


def _reasons_of_model(classifier: ChurnReasonClassifier, reasons: dict[str, dict[str, Any]],
                      configured: bool) -> dict[str, dict[str, Any]]:
    """The reason list of a run with a (trained) churn head: the head's own reasons, which
    must match ``link.churn_reasons`` when those are configured too."""
    have = [r for r in reasons if r != "other"]
    if list(classifier.reason_ids_) == have:
        return reasons
    if configured:
        raise ConfigError(
            f"link.churn_model was trained on reasons {', '.join(classifier.reason_ids_)} but "
            f"link.churn_reasons lists {', '.join(have)}. Remove link.churn_reasons (the model "
            "brings its own) or retrain with `cxnlp train churn` on the configured list.")
    return {**{r: dict(classifier.reasons[r]) for r in classifier.reason_ids_},
            "other": reasons.get("other") or dict(REASON_TEXT["other"])}


#: At-risk sentences scored by the direct classifier at a time (bounds their vectors).
_DIRECT_SLICE = 50_000


def assign_churn_reasons(
    responses: pd.DataFrame,
    mentions: pd.DataFrame,
    risk: pd.Series,
    theme_reason: Mapping[str, str],
    reasons: Sequence[str],
    *,
    sentences: pd.DataFrame | None = None,
    sentence_vectors: np.ndarray | None = None,
    classifier: ChurnReasonClassifier | None = None,
    theme_weight: float = 0.5,
    min_confidence: float = 0.35,
) -> pd.DataFrame:
    """``churn_reason``, ``churn_confidence``, ``churn_evidence`` for the at-risk responses.

    For an at-risk response with text, each reason ``r`` gets

    - ``T_r`` = max over its mentions of a theme mapped to ``r`` of
      ``confidence × polarity`` (polarity 1 for negative, 0.7 mixed, 0.5 neutral, 0.15
      positive aspect sentiment: praise is not a reason to leave);
    - ``D_r`` = max over its sentences of the direct classifier's confidence times
      ``1 − p_positive`` of the sentence (when the sentences carry sentiment): a detractor
      who praises the staff has not named poor service as the reason to leave;

    ``score_r = w·T_r + (1 − w)·D_r`` with ``w = theme_weight`` (``w = 0`` when no mention
    maps to a reason, ``w = 1`` without a classifier). The reason is the best ``r``, or
    ``other`` when its score is below ``min_confidence``; the evidence is the sentence (or
    mention span) that scored it. Rows not at risk, or without text, stay empty.
    """
    n = len(responses)
    out = pd.DataFrame({"churn_reason": pd.Series([None] * n, dtype=object),
                        "churn_confidence": np.full(n, np.nan),
                        "churn_evidence": pd.Series([None] * n, dtype=object)},
                       index=responses.index)
    rids = responses["row_id"].to_numpy() if "row_id" in responses else np.arange(n)
    todo = risk.notna().to_numpy() & analysed(responses)
    if "text" in responses:  # the at-risk rows' text only: a million texts are not copied
        at = np.flatnonzero(todo)
        todo[at] = responses["text"].iloc[at].astype(str).str.strip().ne("").to_numpy()
    if not todo.any():
        return out
    idx = np.flatnonzero(todo)
    # the matrices below have a row per at-risk response (``pos``), not per response
    pos = {int(r): i for i, r in enumerate(rids[idx])}
    cand = [r for r in reasons if r != "other"]
    col = {r: j for j, r in enumerate(cand)}
    todo_ids = set(pos)
    T = np.zeros((len(idx), len(cand)))
    T_ev = np.full((len(idx), len(cand)), None, dtype=object)
    if len(mentions):
        m = mentions[["row_id", "theme", "confidence", "sentiment", "evidence"]]
        m = m[m["row_id"].isin(todo_ids)]
        for rid, theme, conf, sent, ev in zip(m["row_id"], m["theme"], m["confidence"],
                                              m["sentiment"], m["evidence"], strict=True):
            r = theme_reason.get(str(theme))
            if r not in col:
                continue
            i, j = pos[int(rid)], col[r]
            v = float(conf) * _POLARITY.get(str(sent), 0.5)
            if v > T[i, j]:
                T[i, j], T_ev[i, j] = v, str(ev)
    D = np.zeros((len(idx), len(cand)))
    D_ev = np.full((len(idx), len(cand)), None, dtype=object)
    use_direct = classifier is not None and sentences is not None and len(sentences) > 0
    if use_direct:
        keep = sentences["row_id"].isin(todo_ids).to_numpy()
        sel = sentences[keep]
        given = None if sentence_vectors is None else np.asarray(sentence_vectors)[keep]
        seen = np.zeros(D.shape, bool)
        # slices of sentences, so a million at-risk sentences never hold all their vectors
        for s in range(0, len(sel), _DIRECT_SLICE):
            part = sel.iloc[s : s + _DIRECT_SLICE]
            texts = part["text"].astype(str).tolist()
            if given is None:
                from .encode import encoder_text  # the pipeline's cache keys: a lookup

                enc = classifier.classifier_._encoder()
                vecs = np.asarray(enc.encode([encoder_text(t) for t in texts]), np.float32)
            else:
                vecs = np.asarray(given[s : s + _DIRECT_SLICE], np.float32)
            conf = classifier.decision_scores(vecs, texts)
            if "p_positive" in part:
                praise = pd.to_numeric(part["p_positive"], errors="coerce").fillna(0.0)
                conf = conf * (1.0 - praise.to_numpy(float))[:, None]
            rows = np.array([pos[int(r)] for r in part["row_id"]])
            texts_arr = np.asarray(texts, dtype=object)
            for c, r in enumerate(classifier.reason_ids_):
                if r not in col:
                    continue
                best = pd.Series(conf[:, c]).groupby(rows).idxmax()
                at, j, k = best.index.to_numpy(), col[r], best.to_numpy()
                new = ~seen[at, j] | (conf[k, c] > D[at, j])  # the first best sentence wins
                D[at[new], j] = conf[k[new], c]
                D_ev[at[new], j] = texts_arr[k[new]]
                seen[at, j] = True
    has_theme = T.max(axis=1) > 0
    w = np.where(has_theme, theme_weight if use_direct else 1.0, 0.0)[:, None]
    S = w * T + (1 - w) * D
    if len(cand):
        j = S.argmax(axis=1)
        best = S[np.arange(len(idx)), j]
    else:
        j, best = np.zeros(len(idx), int), np.zeros(len(idx))
    reasons_, evidence = [], []
    for i, jj, b in zip(range(len(idx)), j, best, strict=True):
        reason = cand[jj] if len(cand) and b >= min_confidence else "other"
        ev = None
        if reason != "other":
            from_theme = w[i, 0] * T[i, jj] >= (1 - w[i, 0]) * D[i, jj]
            ev = (T_ev[i, jj] if from_theme else D_ev[i, jj]) or T_ev[i, jj] or D_ev[i, jj]
        reasons_.append(reason)
        evidence.append(ev)
    out.iloc[idx, 0] = np.asarray(reasons_, dtype=object)
    out.iloc[idx, 1] = [round(float(b), 4) for b in best]
    out.iloc[idx, 2] = np.asarray(evidence, dtype=object)
    return out


def churn_table(responses: pd.DataFrame, reasons: Mapping[str, Mapping[str, Any]] | Sequence[str],
                *, confidence: float = 0.95, min_n: int = 30) -> pd.DataFrame:
    """Churn reasons ranked by count, with shares and Wilson intervals.

    Columns: ``rank``, ``reason``, ``label``, ``count``, ``n`` (at-risk responses with a
    reason), ``share``, ``low``, ``high`` (fractions in [0, 1]), ``mean_confidence``,
    ``example`` (the most confident evidence), ``small`` (``n < min_n``). Every configured
    reason is listed, zero counts included; ties keep the configured order. Empty when no
    at-risk response has a reason: a ranking of zeros (shares of nothing) says nothing.
    """
    labels = ({r: v.get("label", r) for r, v in reasons.items()} if isinstance(reasons, Mapping)
              else {r: r for r in reasons})
    cols = CHURN_COLUMNS
    if "churn_reason" not in responses:
        return pd.DataFrame(columns=cols)
    got = narrow(responses, ("churn_reason", "churn_confidence", "churn_evidence"))
    got = got[got["churn_reason"].notna()]
    n = len(got)
    if not n:
        return pd.DataFrame(columns=cols)
    rows = []
    for order, (rid, label) in enumerate(labels.items()):
        part = got[got["churn_reason"] == rid]
        k = len(part)
        lo, hi = wilson_interval(k, n, confidence)
        ex = None
        if k and part["churn_evidence"].notna().any():
            best = part[part["churn_evidence"].notna()]["churn_confidence"].idxmax()
            ex = part.at[best, "churn_evidence"]
        rows.append({"reason": rid, "label": label, "count": k, "n": n,
                     "share": k / n if n else np.nan, "low": lo, "high": hi,
                     "mean_confidence": float(part["churn_confidence"].mean()) if k else np.nan,
                     "example": ex, "small": n < min_n, "_order": order})
    table = pd.DataFrame(rows)
    table = table.sort_values(["count", "_order"], ascending=[False, True], kind="mergesort")
    table["rank"] = np.arange(1, len(table) + 1)
    return table[cols].reset_index(drop=True)


# --------------------------------------------------------------------------- touchpoint table


def touchpoint_table(
    responses: pd.DataFrame,
    mentions: pd.DataFrame,
    order: Sequence[str],
    *,
    score_column: str | None = None,
    score_kind: str | None = None,
    confidence: float = 0.95,
    min_n: int = 30,
) -> pd.DataFrame:
    """Volume, sentiment and score per touchpoint, in journey order.

    Two sources, told apart by ``source``:

    - ``"themes"``: responses with at least one mention whose theme links to the touchpoint
      (``mentions.touchpoint``); sentiment mix and mean sentiment score are those of the
      mentions (aspect sentiment);
    - ``"column"``: responses whose export touchpoint column (``responses.touchpoint``)
      normalises to it; sentiment is the response's.

    Columns: ``source``, ``touchpoint``, ``order`` (position in the journey), ``responses``
    (volume), ``share`` (of analysed responses for themes, of all rows for the column),
    ``mentions``, ``negative``/``neutral``/``positive``/``mixed`` (fractions), ``sentiment_score``
    (mean of p_positive − p_negative) with ``sentiment_low``/``sentiment_high``,
    ``score_metric``, ``score``, ``score_low``, ``score_high``, ``score_n`` (valid scores),
    ``small`` (``responses < min_n``; flagged, never hidden), ``sentiment_n`` (sentiment
    labels behind the mix: mentions for themes, analysed responses for the column),
    ``sentiment_small`` (``sentiment_n < min_n``) and ``score_small`` (``score_n < min_n``;
    false without a score column).

    ``small`` counts responses, but each estimate rests on its own n: a stage with 200
    responses may have 6 valid scores (empty or invalid answers) or few analysed comments.
    ``sentiment_small`` and ``score_small`` flag the sentiment and the score by the n behind
    them, so a number is never read as solid because its row count is.
    """
    rows: list[dict[str, Any]] = []
    journey = list(order)
    n_analysed = int(analysed(responses).sum())
    # the columns read, so a touchpoint's rows are copied without the text
    responses = narrow(responses, ("row_id", "status", "touchpoint", "sentiment",
                                   "sentiment_score", score_column or None))  # fmt: skip
    by_id = responses.set_index("row_id", drop=False) if "row_id" in responses else responses

    def score(part: pd.DataFrame) -> dict[str, Any]:
        if not score_column or score_column not in part:
            return {"score_metric": None, "score": np.nan, "score_low": np.nan,
                    "score_high": np.nan, "score_n": 0}
        est = score_metric(part[score_column], score_kind or "nps", confidence)
        return {"score_metric": est.metric, "score": est.value, "score_low": est.low,
                "score_high": est.high, "score_n": est.n}

    def mix(labels: pd.Series, scores: pd.Series) -> dict[str, Any]:
        labels = labels.dropna().astype(str)
        k = len(labels)
        vc = labels.value_counts()
        mean, lo, hi = mean_interval(pd.to_numeric(scores, errors="coerce"), confidence,
                                     SCORE_BOUNDS)
        d = {lab: (vc.get(lab, 0) / k if k else np.nan)
             for lab in ("negative", "neutral", "positive", "mixed")}
        return {**d, "sentiment_score": mean, "sentiment_low": lo, "sentiment_high": hi,
                "sentiment_n": k}

    if len(mentions) and "touchpoint" in mentions:
        m = mentions[["row_id", "touchpoint", "sentiment", "sentiment_score"]]
        m = m[m["touchpoint"].notna()]
        tps = journey + [t for t in pd.unique(m["touchpoint"]) if t not in journey]
        for tp in tps:
            part_m = m[m["touchpoint"] == tp]
            ids = pd.unique(part_m["row_id"])
            part_r = by_id.loc[[i for i in ids if i in by_id.index]]
            rows.append({"source": "themes", "touchpoint": tp, "responses": len(ids),
                         "share": len(ids) / n_analysed if n_analysed else np.nan,
                         "mentions": len(part_m),
                         **mix(part_m["sentiment"], part_m["sentiment_score"]),
                         **score(part_r)})
    if "touchpoint" in responses and responses["touchpoint"].notna().any():
        r = responses[responses["touchpoint"].notna()]
        tps = journey + [t for t in pd.unique(r["touchpoint"]) if t not in journey]
        for tp in tps:
            part = r[r["touchpoint"] == tp]
            if not len(part):
                continue  # a stage the export does not have (themes rows list every stage)
            ok = part[analysed(part)]
            rows.append({"source": "column", "touchpoint": tp, "responses": len(part),
                         "share": len(part) / len(responses), "mentions": np.nan,
                         **mix(ok.get("sentiment", pd.Series(dtype=object)),
                               ok.get("sentiment_score", pd.Series(dtype=float))),
                         **score(part)})
    cols = TOUCHPOINT_COLUMNS
    if not rows:
        return pd.DataFrame(columns=cols)
    table = pd.DataFrame(rows)
    rank = {t: i for i, t in enumerate(journey)}
    table["order"] = [rank.get(t, len(journey)) for t in table["touchpoint"]]
    table["small"] = table["responses"] < min_n
    table["sentiment_small"] = table["sentiment_n"] < min_n
    # no score column: no score to flag
    table["score_small"] = (table["score_n"] < min_n) & table["score_metric"].notna()
    return table[cols].reset_index(drop=True)


# --------------------------------------------------------------------------- the stage


def link_results(results: Any, config: Any, codeframe: Codeframe | None = None,
                 encoder: Any = None, classifier: ChurnReasonClassifier | None = None,
                 sentences: Callable[[np.ndarray], pd.DataFrame] | None = None) -> Any:
    """The link stage over a run: adds touchpoint and churn columns and tables to ``results``.

    ``sentences(row_ids)``, when given, supplies the sentences of the at-risk responses
    (a run whose sentences stay on disk); otherwise ``results.sentences`` is used.

    ``responses`` gains ``touchpoint`` (normalised export value, when a touchpoint column
    exists), ``at_risk`` (why the customer counts as churned/at risk, else empty),
    ``churn_reason``, ``churn_confidence``, ``churn_evidence``; ``mentions`` gains
    ``touchpoint``. ``results.touchpoints`` and ``results.churn`` are filled, and
    ``results.columns`` records the ``touchpoint`` / ``churn`` columns used.
    """
    from .io import detect_link_columns

    lc, dc = config.link, config.drivers
    responses, mentions = results.responses, results.mentions
    cols = dict(results.columns or {})
    claimed = set(cols.get("text") or []) | set(cols.get("scores") or {})
    claimed |= {c for c in (cols.get("date"), cols.get("id")) if c}
    claimed |= {"row_id", "status", "text", "language", "notes", "pii", "sentiment", "themes"}
    found = detect_link_columns(responses, exclude=claimed, touchpoint=lc.touchpoint_column,
                                churn=lc.churn_column)
    cols["touchpoint"], cols["churn"] = found["touchpoint"], found["churn"]
    results.columns = cols

    order, theme_tp = touchpoints_of(codeframe, lc.touchpoints)
    if len(mentions):
        mentions["touchpoint"] = mentions["theme"].map(lambda t: theme_tp.get(str(t)))
    if found["touchpoint"]:
        values = responses[found["touchpoint"]]
        cache = {v: normalize_touchpoint(v, order, lc.touchpoint_aliases, lc.fuzzy_cutoff)
                 for v in pd.unique(values.dropna())}
        responses["touchpoint"] = values.map(lambda v: cache.get(v) if pd.notna(v) else None)

    score_col, kind = primary_score(cols, dc.score_column, responses)
    results.touchpoints = touchpoint_table(responses, mentions, order, score_column=score_col,
                                           score_kind=kind, confidence=dc.confidence,
                                           min_n=dc.min_n)

    reasons = churn_reasons_of(codeframe, lc.churn_reasons)
    theme_reason = ({t.id: t.churn_reason for t in codeframe.themes if t.churn_reason}
                    if codeframe is not None else {})
    theme_reason.update(lc.churn_map)
    risk = at_risk(responses, cols, churn_column=found["churn"],
                   churn_inverted=found["churn_inverted"], scores=lc.at_risk_scores,
                   negative_text=lc.negative_text_at_risk)
    responses["at_risk"] = risk
    if classifier is None and encoder is not None:
        classifier = (ChurnReasonClassifier.load(lc.churn_model, encoder) if lc.churn_model
                      else ChurnReasonClassifier(reasons, encoder))
    if classifier is not None:
        reasons = _reasons_of_model(classifier, reasons, bool(lc.churn_reasons))
        head_id = getattr(classifier.classifier_, "model_id_", None)  # a trained head's
        if head_id and isinstance(results.manifest, dict):
            results.manifest.setdefault("models", {})["churn"] = head_id
    assigned = assign_churn_reasons(
        responses, mentions, risk, theme_reason, list(reasons),
        sentences=(sentences(responses["row_id"].to_numpy()[risk.notna().to_numpy()])
                   if sentences is not None else results.sentences),
        classifier=classifier, theme_weight=theme_weight_for(classifier, lc.theme_weight),
        min_confidence=lc.min_reason_confidence)
    for c in assigned.columns:
        responses[c] = assigned[c]
    results.churn = churn_table(responses, reasons, confidence=dc.confidence, min_n=dc.min_n)
    return results
