"""Offline tests of the sentiment head: shipped artifact, calibration, doc/sentence labels."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402

from cxnlp.encode import Encoder, embed_documents  # noqa: E402
from cxnlp.errors import ModelError  # noqa: E402
from cxnlp.paths import models_dir  # noqa: E402
from cxnlp.sentiment import (  # noqa: E402
    CARD_FILE,
    CONFIG_FILE,
    TEXT_CUES,
    WEIGHTS_FILE,
    SentimentClassifier,
    document_sentiment,
    load_sentiment,
    text_cues,
)

SHIPPED = models_dir() / "sentiment"

POSITIVE = [
    "I love this dress, it fits perfectly and the quality is great.",
    "Thank you so much, the crew were wonderful and the flight was smooth!",
    "Great value and fast delivery, very happy with my order.",
]
NEGATIVE = [
    "The delivery was three weeks late and nobody answered my emails.",
    "Terrible customer service, I was on hold for two hours and then cut off.",
    "The fabric ripped after one wash, very disappointed.",
]
NEUTRAL = [
    "Is there a direct flight from Denver to Chicago?",
    "How do I change the address on my account?",
    "Can I bring my dog on the flight to Boston tomorrow?",
]


@pytest.fixture(scope="module")
def encoder() -> Encoder:
    return Encoder(cache=False)


@pytest.fixture(scope="module")
def model() -> SentimentClassifier:
    return load_sentiment()


def _random_data(n: int = 120, d: int = 8, seed: int = 0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(3, d)) * 2
    y = np.repeat(["negative", "neutral", "positive"], n // 3)
    X = centers[np.searchsorted(["negative", "neutral", "positive"], y)] + rng.normal(size=(n, d))
    return X, y


# ---------------------------------------------------------------------------- artifact
def test_shipped_model_loads(model: SentimentClassifier) -> None:
    assert list(model.classes_) == ["negative", "neutral", "positive"]
    assert model.coef_.shape == (3, 384)
    assert model.temperature_ > 0
    assert model.encoder_model == "all-MiniLM-L6-v2"
    card = (SHIPPED / CARD_FILE).read_text(encoding="utf-8")
    assert "SHA-256" in card and WEIGHTS_FILE in card and CONFIG_FILE in card


@pytest.mark.parametrize("victim", [WEIGHTS_FILE, CONFIG_FILE])
def test_tampered_file_raises(tmp_path, victim: str) -> None:
    copy = shutil.copytree(SHIPPED, tmp_path / "sentiment")
    data = bytearray((copy / victim).read_bytes())
    data[-2] ^= 0x01
    (copy / victim).write_bytes(bytes(data))
    with pytest.raises(ModelError, match="does not match its model card"):
        load_sentiment(copy)


@pytest.mark.parametrize("victim", [WEIGHTS_FILE, CONFIG_FILE, CARD_FILE])
def test_missing_file_raises(tmp_path, victim: str) -> None:
    copy = shutil.copytree(SHIPPED, tmp_path / "sentiment")
    (copy / victim).unlink()
    with pytest.raises(ModelError, match="missing|No MODEL_CARD"):
        load_sentiment(copy)


def test_no_pickle_in_artifact() -> None:
    names = {p.name for p in SHIPPED.iterdir()}
    assert names >= {WEIGHTS_FILE, CONFIG_FILE, CARD_FILE}
    assert not any(n.endswith((".pkl", ".pickle", ".joblib")) for n in names)
    config = json.loads((SHIPPED / CONFIG_FILE).read_text())
    assert config["classes"] == ["negative", "neutral", "positive"]
    assert config["encoder_model"] == "all-MiniLM-L6-v2"


# ---------------------------------------------------------------------------- predictions
def test_probabilities_are_calibrated_shaped(model, encoder) -> None:
    texts = POSITIVE + NEGATIVE + NEUTRAL
    X = encoder.encode(texts)
    p = model.predict_proba(X, texts=texts)
    assert p.shape == (9, 3)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-6)
    assert (p > 0).all() and (p < 1).all()
    # confident on clear cases, yet not saturated the way an uncalibrated head can be
    assert np.median(p.max(axis=1)) > 0.5
    assert p.max() < 0.9999
    np.testing.assert_array_equal(model.predict(X, texts=texts), model.classes_[p.argmax(axis=1)])


@pytest.mark.parametrize(
    "texts,label", [(POSITIVE, "positive"), (NEGATIVE, "negative"), (NEUTRAL, "neutral")]
)
def test_obvious_sentences(model, encoder, texts, label) -> None:
    assert list(model.predict(encoder.encode(texts), texts=texts)) == [label] * len(texts)


@pytest.mark.parametrize(
    "text,allowed",
    [  # the reported NPS false alarms; neither sentence is in the training data
        ("No problems so far", {"positive", "neutral"}),
        ("It was fine.", {"positive", "neutral"}),
        ("I have never had any problems with the product.", {"positive"}),
        ("I've had problems ever since I switched.", {"negative"}),
    ],
)
def test_negated_problems_and_mild_acceptance(model, encoder, text, allowed) -> None:
    docs, _ = model.predict_documents(embed_documents(encoder, [text]))
    assert docs["sentiment"].iloc[0] in allowed


# Promoters' answers like those of the telecom NPS verbatims, reworded (no rows of an
# evaluate-only set go into the repo), and controls. The cues now read the
# first three as resolved / praised / as expected, but the vector puts service talk next to
# the banking complaints of the training pool and still wins (model card, fifth round).
# Strict, so a fix shows up as XPASS -> make them plain tests.
SERVICE_PRAISE = [
    "The problem got solved at once without complications",
    "My phone call was handled very well",
    "Does everything just as expected, and more.",
    "Because all the company did was 100%",
]
SERVICE_CONTROLS = [
    "The problem was never solved",
    "Because they overcharged me again",
    "They haven't fixed the issue",
]


def _doc_proba(model, encoder, texts: list[str]) -> pd.DataFrame:
    docs, _ = model.predict_documents(embed_documents(encoder, texts))
    return docs


def test_service_complaints_stay_negative(model, encoder) -> None:
    docs = _doc_proba(model, encoder, SERVICE_CONTROLS)
    assert docs["sentiment"].tolist() == ["negative"] * len(SERVICE_CONTROLS)


def test_solved_problem_with_praise_reads_positive(model, encoder) -> None:
    # the model card's limitation example: negative 0.86 with the six-cue head
    docs = _doc_proba(model, encoder, ["Fantastic support, my problem was solved in minutes."])
    assert docs["sentiment"].iloc[0] == "positive"


def test_cues_pull_service_praise_towards_positive(model, encoder) -> None:
    """The cues of each answer raise its positive-vs-negative log-odds over the vector's."""
    texts = SERVICE_PRAISE[:3]
    X = embed_documents(encoder, texts).docs
    with_cues = np.log(model.predict_proba(X, texts=texts))
    vector_only = np.log(model.predict_proba(X, texts=[""] * len(texts)))
    gain = (with_cues[:, 2] - with_cues[:, 0]) - (vector_only[:, 2] - vector_only[:, 0])
    assert (gain > 0.25).all(), gain  # measured 3.4, 1.0, 0.33 nats


@pytest.mark.xfail(strict=True, reason="vector reads service talk as complaints; see above")
@pytest.mark.parametrize("text", SERVICE_PRAISE)
def test_service_praise_reads_positive(model, encoder, text) -> None:
    assert _doc_proba(model, encoder, [text])["sentiment"].iloc[0] == "positive"


def test_text_cues() -> None:
    row = text_cues(["@shop can you help? No problems so far, it's fine!"])[0]
    cues = dict(zip(TEXT_CUES, row, strict=True))
    assert cues == {
        "question": 1,
        "exclaim": 1,
        "negated_problem": 1,
        "negation": 1 / 3,
        "request": 1,
        "mild": 1,
        "praise": 0,
        "blame": 0,
    }
    assert not text_cues(["I had problems with the app."])[0, 2]


def _cues(text: str) -> set[str]:
    return {c for c, v in zip(TEXT_CUES, text_cues([text])[0], strict=True) if v}


@pytest.mark.parametrize(
    "text,on,off",
    [  # the first three: promoters' answers like the telecom NPS verbatims', reworded
        ("The problem got solved at once without complications", {"negated_problem"}, set()),
        ("My phone call was handled very well", {"praise"}, {"negated_problem"}),
        ("Does everything just as expected, and more.", {"mild"}, {"request"}),
        ("They sorted out the problem with my router in a day", {"negated_problem"}, set()),
        ("Couldn't fault the engineer at all", {"negated_problem"}, set()),
        ("Hassle-free switch from my old provider", {"negated_problem"}, set()),
        # controls: the problem stays, a question stays a question, praise negated
        ("The problem was never solved", set(), {"negated_problem"}),
        ("They haven't fixed the issue", set(), {"negated_problem"}),
        ("I had problems and nobody fixed them", set(), {"negated_problem"}),
        ("The issue will be resolved next week, they say", set(), {"negated_problem"}),
        ("Does the app work abroad", {"request"}, set()),
        ("The agent was not very helpful", {"negation"}, {"praise"}),
        ("Because they overcharged me again", {"blame"}, {"praise", "negated_problem"}),
    ],
)
def test_cues_read_resolution_negation_praise_and_blame(text, on, off) -> None:
    cues = _cues(text)
    assert on <= cues and not off & cues, cues


CUE_WORDS = ["NOT", "No", "never", "Don't", "CAN'T", "complain", "Problems", "issue", "BAD",
             "too", "a", "Fine", "OK", "as", "Expected", "Please", "Can", "you", "HOW", "much",
             "zero", "Hassles", "nor", "?", "!", ",", ".", "@Shop", " ", "\n", "Helpful",
             "VERY", "well", "Solved", "fixed", "RUDE", "free", "Does", "it", "will"]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(CUE_WORDS), max_size=14).map(" ".join))
def test_text_cues_of_ascii_text_match_the_case_blind_patterns(text) -> None:
    """ASCII text is lower-cased and read by case-sensitive copies of the patterns (twice as
    fast); a trailing non-ASCII word, which no cue reads, sends it through ``re.I`` instead."""
    fast, case_blind = text_cues([text, text + " é"])
    assert fast.tolist() == case_blind.tolist()


def test_cue_head_needs_texts(tmp_path) -> None:
    X, y = _random_data()
    texts = [f"{lab} sample?" if i % 2 else f"{lab} sample" for i, lab in enumerate(y)]
    clf = SentimentClassifier(text_cues=True).fit(X, y, texts=texts)
    assert clf.coef_.shape == (3, 8) and clf.cue_coef_.shape == (3, len(TEXT_CUES))
    with pytest.raises(ValueError, match="texts="):
        clf.predict_proba(X)
    clf.save(tmp_path)
    again = load_sentiment(tmp_path)
    np.testing.assert_array_equal(
        again.predict_proba(X, texts=texts), clf.predict_proba(X, texts=texts)
    )


def test_mixed_document_and_empty(model, encoder) -> None:
    texts = [
        "The staff were lovely. The delivery was three weeks late and nobody answered.",
        "The staff were lovely. Everything arrived on time and it fits perfectly.",
        "",
    ]
    emb = embed_documents(encoder, texts)
    docs, sents = model.predict_documents(emb)
    assert docs["sentiment"].tolist()[:2] == ["mixed", "positive"]
    assert pd.isna(docs["sentiment"].iloc[2])
    assert np.isnan(docs["p_positive"].iloc[2])
    assert sents.loc[sents["doc"] == 0, "sentiment"].tolist() == ["positive", "negative"]
    np.testing.assert_allclose(docs[["p_negative", "p_neutral", "p_positive"]].iloc[:2].sum(1), 1)


def test_document_sentiment_rules() -> None:
    doc = np.array(
        [[0.5, 0.1, 0.4], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6], [0.3, 0.3, 0.4], [0.3, 0.3, 0.4]]
    )
    sent = np.array(
        [
            [0.9, 0.05, 0.05],
            [0.05, 0.05, 0.9],  # doc 0: confident neg + confident pos
            [0.2, 0.7, 0.1],  # doc 1
            [0.55, 0.1, 0.35],
            [0.1, 0.1, 0.8],
        ]  # doc 2: negative below threshold
    )
    labels = document_sentiment(doc, sent, [0, 0, 1, 2, 2], 5, threshold=0.6)
    assert labels.tolist() == ["mixed", "neutral", "positive", None, None]
    with pytest.raises(ValueError, match="sentence_doc"):
        document_sentiment(doc, sent, [0, 0, 1], 5)


# ---------------------------------------------------------------------------- estimator
def test_save_load_round_trip(tmp_path, model, encoder) -> None:
    texts = POSITIVE + NEGATIVE + NEUTRAL
    X = encoder.encode(texts)
    model.save(tmp_path / "m", card="# test copy\n")
    again = load_sentiment(tmp_path / "m")
    np.testing.assert_array_equal(
        again.predict_proba(X, texts=texts), model.predict_proba(X, texts=texts)
    )
    assert again.get_params() == model.get_params()
    assert again.temperature_ == model.temperature_


def test_fit_small_round_trip(tmp_path) -> None:
    X, y = _random_data()
    clf = SentimentClassifier(C=1.0).fit(X, y)
    assert list(clf.classes_) == ["negative", "neutral", "positive"]
    assert (clf.predict(X) == y).mean() > 0.9
    assert clf.n_calibration_ == 18 and clf.temperature_ > 0
    clf.save(tmp_path)
    np.testing.assert_array_equal(load_sentiment(tmp_path).predict_proba(X), clf.predict_proba(X))


def test_fit_is_deterministic() -> None:
    X, y = _random_data()
    a = SentimentClassifier().fit(X, y).predict_proba(X)
    b = SentimentClassifier().fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)


def test_estimator_contract() -> None:
    clf = SentimentClassifier(C=2.0, mixed_threshold=0.7)
    assert clone(clf).get_params() == clf.get_params()
    assert not hasattr(clf, "coef_")
    with pytest.raises(NotFittedError):
        clf.predict(np.zeros((1, 8)))
    with pytest.raises(ValueError, match="C must be"):
        SentimentClassifier(C=-1).fit(*_random_data())
    X, y = _random_data()
    fitted = clf.fit(X, y)
    assert fitted is clf and clf.n_features_in_ == 8
    with pytest.raises(ValueError, match="features"):
        clf.predict(np.zeros((2, 5)))


def test_sklearn_estimator_checks() -> None:
    from sklearn.utils.estimator_checks import check_estimator

    check_estimator(SentimentClassifier(), expected_failed_checks=_EXPECTED_FAILED, on_fail="raise")


_EXPECTED_FAILED: dict[str, str] = {}


def test_the_shipped_card_is_the_one_training_writes():
    """`cxnlp train sentiment` rewrites MODEL_CARD.md from its template: every fixed part of
    the template must be in the shipped card, in order, or a retrain would lose text."""
    import re

    from cxnlp.paths import models_dir
    from cxnlp.training.sentiment import CARD_TEMPLATE

    card = (models_dir() / "sentiment" / "MODEL_CARD.md").read_text(encoding="utf-8")
    fill = r"\{\{ROWS\}\}\n|\{\{METRICS\}\}\n|\(run `python benchmarks/sentiment.py --write-card`"
    pos = 0
    for piece in re.split(fill + r" to fill in\)\n", CARD_TEMPLATE):
        found = card.find(piece, pos)
        assert found >= 0, piece[:80]
        pos = found + len(piece)
