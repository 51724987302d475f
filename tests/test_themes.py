"""Codeframes and the theme classifier: validation, zero-shot, mentions, offsets, persistence."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import textwrap  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from cxnlp.encode import Encoder, embed_documents  # noqa: E402
from cxnlp.errors import ConfigError, InputError, ModelError  # noqa: E402
from cxnlp.results import MENTION_COLUMNS  # noqa: E402
from cxnlp.themes import Codeframe, CodeframeClassifier, theme_columns  # noqa: E402

SHIPPED = ["generic", "retail", "airline", "restaurant", "telecom", "banking"]

TEXTS = [
    "The parcel arrived two weeks late.",
    "I was charged twice for one order!",
    "Great value for money, and the staff were so friendly. The app keeps crashing though.",
    "",
    "I couldn't log in to my account.",
]


@pytest.fixture(scope="module")
def encoder(tmp_path_factory) -> Encoder:
    return Encoder(cache_dir=tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="module")
def embedded(encoder):
    de = embed_documents(encoder, TEXTS)
    sentences = de.sentences.rename(columns={"doc": "row_id"})
    proba = np.tile([0.6, 0.3, 0.1], (len(sentences), 1))
    proba[sentences["text"].str.contains("Great")] = [0.05, 0.15, 0.8]
    return sentences, de.sentence_vectors, proba


def _write(tmp_path, body: str):
    path = tmp_path / "cf.yaml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


# ----------------------------------------------------------------- codeframe validation


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_codeframes_load(name):
    cf = Codeframe.load(name)
    assert cf.name == name
    assert len(cf.themes) >= 8
    assert all(t.touchpoint and t.churn_reason for t in cf.themes)
    assert all(len(t.description.split()) >= 5 for t in cf.themes)


def test_available_lists_shipped():
    assert set(SHIPPED) <= set(Codeframe.available())


def test_airline_codeframe_covers_complaint_reasons():
    ids = set(Codeframe.load("airline").ids)
    assert {
        "customer_service",
        "flight_delay",
        "flight_cancelled",
        "lost_luggage",
        "bad_flight",
        "booking_problems",
        "flight_attendants",
        "long_lines",
        "damaged_luggage",
    } <= ids


def test_all_problems_reported_at_once(tmp_path):
    path = _write(
        tmp_path,
        """
        name: broken
        version: 1
        touchpoints: [web, store]
        churn_reasons: [price, other]
        themes:
          - {id: a, label: A, description: about a}
          - {id: a, label: A again, description: about a again}
          - {id: b, label: B, description: about b, parent: nowhere}
          - {id: c, label: C, description: about c, parent: a}
          - {id: d, label: D, description: about d, parent: c}
          - {id: e, label: E, description: about e, touchpoint: phone}
          - {id: f, label: F, description: about f, churn_reason: boredom}
          - {id: g, label: a AGAIN, description: about g}
          - {id: h, label: Other, description: about h, parent: a}
          - {id: i, label: Other, description: about i, parent: e}
    """,
    )
    with pytest.raises(ConfigError) as info:
        Codeframe.from_yaml(path)
    msg = str(info.value)
    assert f"{path}:9: theme 'b': unknown parent" in msg  # each problem names its line
    assert "6 problem(s)" in msg
    assert "theme 'g': same label as 'a'" in msg
    assert "theme 'a': duplicate id" in msg
    assert "theme 'b': unknown parent 'nowhere'" in msg
    assert "theme 'd': parent 'c' is itself a child of 'a'" in msg and "two levels" in msg
    assert "theme 'e': unknown touchpoint 'phone'" in msg and "web, store" in msg
    assert "theme 'f': unknown churn reason 'boredom'" in msg


def test_field_errors_name_the_theme(tmp_path):
    path = _write(
        tmp_path,
        """
        name: typo
        themes:
          - {id: ok, label: OK, description: fine}
          - {id: bad, label: Bad, descripton: misspelt}
          - {label: No id, description: missing id}
    """,
    )
    with pytest.raises(ConfigError) as info:
        Codeframe.from_yaml(path)
    msg = str(info.value)
    assert "theme 'bad': descripton: unknown field" in msg
    assert "theme 'bad': description: Field required" in msg
    assert "theme #3 (no id): id: Field required" in msg


def test_links_unchecked_without_lists(tmp_path):
    path = _write(
        tmp_path,
        """
        name: free
        themes:
          - {id: a, label: A, description: about a, touchpoint: anything, churn_reason: any}
    """,
    )
    assert Codeframe.from_yaml(path).theme("a").touchpoint == "anything"


def test_unknown_name_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="Unknown codeframe 'nope'.*generic"):
        Codeframe.load("nope")
    bad = tmp_path / "bad.yaml"
    bad.write_text("themes: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        Codeframe.from_yaml(bad)
    with pytest.raises(ConfigError, match="not found"):
        Codeframe.from_yaml(tmp_path / "missing.yaml")


def test_yaml_round_trip(tmp_path):
    cf = Codeframe.load("generic")
    cf.to_yaml(tmp_path / "g.yaml")
    assert Codeframe.from_yaml(tmp_path / "g.yaml") == cf


# ----------------------------------------------------------------- classification


def test_zero_shot_fixture(encoder):
    clf = CodeframeClassifier("generic", encoder)
    texts = [
        "The parcel arrived two weeks late",
        "I was charged twice",
        "The app keeps crashing",
        "I can't log in to my account",
        "The agent was very rude to me",
    ]
    pred = clf.predict(encoder.encode(texts), texts)
    ids = np.array(clf.theme_ids_)
    got = [set(ids[row]) for row in pred]
    assert "delivery_speed" in got[0]
    assert got[1] & {"billing", "billing.overcharge"}
    assert "digital_bugs" in got[2]
    assert "account_login" in got[3]
    assert "staff_attitude" in got[4]


def test_unrelated_text_gets_no_theme(encoder):
    clf = CodeframeClassifier("generic", encoder)
    texts = ["The weather in Paris was nice.", "ok"]
    assert not clf.predict(encoder.encode(texts), texts).any()


def test_mentions_shape_and_columns(encoder, embedded):
    sentences, vecs, proba = embedded
    m = CodeframeClassifier("generic", encoder).mentions(sentences, vecs, proba)
    assert list(m.columns) == MENTION_COLUMNS
    assert not m.duplicated(["row_id", "theme"]).any()
    assert m["confidence"].between(0.5, 1.0).all()
    row2 = set(m.loc[m.row_id == 2, "theme"])
    assert len(row2) >= 2  # multi-label: value/staff and the app
    assert "digital_bugs" in row2
    assert 3 not in set(m.row_id)  # the empty response has no sentence, hence no theme
    cols = theme_columns(m, len(TEXTS))
    assert len(cols) == len(TEXTS) and cols[3] == []
    assert "delivery_speed" in cols[0]


def test_aspect_sentiment_uses_only_mentioning_sentences(encoder, embedded):
    sentences, vecs, proba = embedded
    m = CodeframeClassifier("generic", encoder).mentions(sentences, vecs, proba)
    app = m[(m.row_id == 2) & (m.theme == "digital_bugs")].iloc[0]
    assert app["sentiment"] == "negative"
    assert app["sentiment_score"] == pytest.approx(0.1 - 0.6)
    others = m[(m.row_id == 2) & (m.theme != "digital_bugs")]
    assert (others["sentiment"] == "positive").all()


def test_evidence_offsets_slice_the_text(encoder, embedded):
    sentences, vecs, proba = embedded
    m = CodeframeClassifier("generic", encoder).mentions(sentences, vecs, proba)
    assert len(m)
    for r in m.itertuples():
        assert TEXTS[r.row_id][r.start : r.end] == r.evidence
    app = m[(m.row_id == 2) & (m.theme == "digital_bugs")].iloc[0]
    assert app["evidence"] == "The app keeps crashing though."


def test_mentions_deterministic_and_without_sentiment(encoder, embedded):
    sentences, vecs, proba = embedded
    a = CodeframeClassifier("generic", encoder).mentions(sentences, vecs, proba)
    b = CodeframeClassifier("generic", encoder).mentions(sentences, vecs, proba)
    pd.testing.assert_frame_equal(a, b)
    c = CodeframeClassifier("generic", encoder).mentions(sentences, vecs, None)
    assert c["sentiment"].isna().all() and list(c.columns) == MENTION_COLUMNS
    empty = CodeframeClassifier("generic", encoder).mentions(sentences.iloc[:0], vecs[:0], None)
    assert list(empty.columns) == MENTION_COLUMNS and len(empty) == 0


def test_mentions_rejects_misaligned_input(encoder, embedded):
    sentences, vecs, proba = embedded
    clf = CodeframeClassifier("generic", encoder)
    with pytest.raises(ValueError, match="must align"):
        clf.mentions(sentences, vecs[:-1], None)
    with pytest.raises(ValueError, match="negative, neutral, positive"):
        clf.mentions(sentences, vecs, proba[:, :2])


def _few_shot(encoder):
    texts = [
        "parcel came late",
        "delivery took three weeks",
        "still waiting for my order",
        "charged me twice",
        "my bill is wrong",
        "extra fee on my invoice",
        "the app crashes",
        "website won't load",
        "error at checkout",
        "nice weather today",
        "I like turtles",
        "see you tomorrow",
    ]
    labels = [["delivery_speed"]] * 3 + [["billing"]] * 3 + [["digital_bugs"]] * 3 + [[]] * 3
    return texts, encoder.encode(texts), labels


def test_fit_save_load_round_trip(encoder, tmp_path):
    texts, X, labels = _few_shot(encoder)
    clf = CodeframeClassifier("generic", encoder).fit(X, labels, texts=texts)
    assert clf.coef_.shape[0] == len(clf.theme_ids_)
    assert clf.blend_[clf.theme_ids_.index("billing")] > 0
    assert clf.blend_[clf.theme_ids_.index("trust_privacy")] == 0
    clf.save(tmp_path / "m")
    assert {p.name for p in (tmp_path / "m").iterdir()} == {
        "themes.json", "themes.safetensors", "MODEL_CARD.md"}  # fmt: skip
    back = CodeframeClassifier.load(tmp_path / "m", encoder)
    assert back.model_id_.startswith("m@") and len(back.model_id_) == len("m@") + 12
    np.testing.assert_allclose(
        back.decision_scores(X, texts), clf.decision_scores(X, texts), atol=1e-6
    )
    pred = back.predict(X, texts)
    assert pred[0, back.theme_ids_.index("delivery_speed")]


def test_ngram_model_round_trip(encoder, tmp_path):
    texts, X, labels = _few_shot(encoder)
    texts, X, labels = texts * 2, np.vstack([X, X]), labels * 2  # min_df=2 needs repeats
    clf = CodeframeClassifier("generic", encoder, ngram_weight=0.5).fit(X, labels, texts=texts)
    assert clf.ngram_vocabulary_
    back = CodeframeClassifier.load(clf.save(tmp_path / "ng"), encoder)
    assert back.ngram_vocabulary_ == clf.ngram_vocabulary_
    np.testing.assert_allclose(
        back.decision_scores(X, texts), clf.decision_scores(X, texts), atol=1e-6
    )


def test_exclusive_head_is_one_softmax_over_themes_and_none(encoder, tmp_path):
    texts, X, labels = _few_shot(encoder)
    texts, X, labels = texts * 2, np.vstack([X, X]), labels * 2
    clf = CodeframeClassifier("generic", encoder, exclusive=True).fit(X, labels, texts=texts)
    k = len(clf.theme_ids_)
    assert clf.coef_.shape == (k + 1, X.shape[1] + k)  # the last row is "none"
    raw = clf._embedding_proba(X, clf.similarities(X, texts))
    assert raw.shape == (len(X), k) and (raw.sum(axis=1) < 1).all()
    unseen = clf.theme_ids_.index("trust_privacy")
    assert raw[:, unseen].max() < 1e-6  # a theme without examples keeps its zero-shot score
    pred = clf.predict(X, texts)
    assert pred[0, clf.theme_ids_.index("delivery_speed")] and pred.sum(axis=1).max() <= 1
    back = CodeframeClassifier.load(clf.save(tmp_path / "ex"), encoder)
    assert back.exclusive
    np.testing.assert_allclose(
        back.decision_scores(X, texts), clf.decision_scores(X, texts), atol=1e-6
    )


def test_exclusive_head_splits_an_example_coded_twice(encoder):
    texts, X, labels = _few_shot(encoder)
    both = ["billing", "delivery_speed"]
    labels[4] = both  # "my bill is wrong" coded twice: half an example for each theme
    clf = CodeframeClassifier("generic", encoder, exclusive=True).fit(X, labels, texts=texts)
    cols = [clf.theme_ids_.index(t) for t in both]
    p = clf._embedding_proba(X[4:5], clf.similarities(X[4:5]))
    assert p[0, cols].sum() > 0.5


def test_ngrams_fall_back_to_embeddings_when_no_word_repeats(encoder):
    texts = ["parcel came late", "charged twice", "app crashes", "nice weather"]
    labels = [["delivery_speed"], ["billing"], ["digital_bugs"], []]
    X = encoder.encode(texts)
    clf = CodeframeClassifier("generic", encoder).fit(X, labels, texts=texts, cv=0)
    assert clf.ngram_weight > 0 and clf.ngram_vocabulary_ == []
    assert clf.predict(X, texts)[0, clf.theme_ids_.index("delivery_speed")]


def test_fit_rejects_unknown_labels(encoder):
    texts, X, labels = _few_shot(encoder)
    labels[0] = ["no_such_theme"]
    with pytest.raises(ValueError, match="no_such_theme"):
        CodeframeClassifier("generic", encoder).fit(X, labels)


def test_calibrate_sets_thresholds(encoder):
    texts, X, labels = _few_shot(encoder)
    clf = CodeframeClassifier("generic", encoder).calibrate(X, labels, texts, min_positives=3)
    assert clf.thresholds_.shape == (len(clf.theme_ids_),)
    assert clf.thresholds_.min() >= 0.15 and clf.thresholds_.max() < 0.7


def test_load_missing_model(tmp_path):
    with pytest.raises(ModelError, match="themes.json"):
        CodeframeClassifier.load(tmp_path)


@pytest.fixture()
def saved_head(encoder, tmp_path):
    texts, X, labels = _few_shot(encoder)
    clf = CodeframeClassifier("generic", encoder).fit(X, labels, texts=texts)
    return clf.save(tmp_path / "head")


@pytest.mark.parametrize("victim", ["themes.safetensors", "themes.json"])
def test_tampered_head_is_refused(saved_head, encoder, victim):
    data = bytearray((saved_head / victim).read_bytes())
    data[-2] ^= 0x01  # one flipped bit: still loadable, but other answers
    (saved_head / victim).write_bytes(bytes(data))
    with pytest.raises(ModelError, match=f"{victim} does not match its model card"):
        CodeframeClassifier.load(saved_head, encoder)


def test_head_without_card_or_hash_is_refused(saved_head, encoder):
    card = saved_head / "MODEL_CARD.md"
    text = card.read_text(encoding="utf-8")
    card.write_text("\n".join(ln for ln in text.splitlines() if "themes.json" not in ln))
    with pytest.raises(ModelError, match="lists no SHA-256 for themes.json"):
        CodeframeClassifier.load(saved_head, encoder)
    card.unlink()
    with pytest.raises(ModelError, match="No MODEL_CARD.md .* train themes"):
        CodeframeClassifier.load(saved_head, encoder)


def test_model_id_follows_the_weights(saved_head, encoder, tmp_path):
    import shutil

    first = CodeframeClassifier.load(saved_head, encoder).model_id_
    moved = shutil.copytree(saved_head, tmp_path / "elsewhere" / "head")
    assert CodeframeClassifier.load(moved, encoder).model_id_ == first  # same files, same id
    other = CodeframeClassifier.load(saved_head, encoder)
    other.thresholds_ = other.thresholds_ + 0.01
    other.save(tmp_path / "retuned" / "head")
    assert CodeframeClassifier.load(tmp_path / "retuned" / "head", encoder).model_id_ != first


# ----------------------------------------------------------------- keywords and authoring

_KEYWORDS = ["late", "c++", ".net", "wi-fi", "customer service", "on time", "😀", "(", "naïve"]


def _keyword_frame() -> Codeframe:
    return Codeframe.from_dict({"name": "kw", "themes": [
        {"id": f"t{i}", "label": f"T{i}", "description": f"about {kw}", "keywords": [kw]}
        for i, kw in enumerate(_KEYWORDS)]})  # fmt: skip


def _reference_hits(text: str) -> list[bool]:
    """The definition: a keyword with no letter or digit right before or after it
    (case-insensitive); one without any letter or digit, as written."""
    import re

    return [
        bool(re.search(r"(?<!\w)" + re.escape(kw) + r"(?!\w)", text, re.I))
        if re.search(r"\w", kw) else kw in text.lower()
        for kw in _KEYWORDS
    ]  # fmt: skip


def test_keywords_match_as_whole_words_including_symbols():
    clf = CodeframeClassifier(_keyword_frame())
    texts = ["I love C++ every day", "we use .NET at work", "the Wi-Fi was down",
             "Customer Service was late", "lately fine", "smile 😀 (really)", "c+ only",
             "on timer", "a naïve fix", ""]  # fmt: skip
    hits = clf.keyword_hits(texts)
    assert hits.tolist() == [_reference_hits(t) for t in texts]
    assert hits[0, 1] and hits[1, 2] and hits[5, 6] and hits[5, 7] and not hits[4, 0]


def test_keyword_hits_property():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    clf = CodeframeClassifier(_keyword_frame())
    pieces = st.sampled_from([*_KEYWORDS, "LATE", "C++", "x", " ", ".", "-", "+", "é", "1",
                              "service", "customer", "on", "time", "(", ")", "🙂", "\n"])
    @settings(max_examples=300, deadline=None)
    @given(st.lists(pieces, max_size=12).map("".join))
    def check(text: str) -> None:
        assert clf.keyword_hits([text])[0].tolist() == _reference_hits(text), text

    check()


def test_authoring_mistakes_name_the_file_and_line(tmp_path):
    """An id outside the rule is explained in words; a key written twice and a YAML syntax
    error name the file and line (PyYAML alone says '<unicode string>')."""
    path = _write(tmp_path, """\
        name: mine
        themes:
          - {id: Späte_Lieferung, label: Late, description: late parcels}
        """)  # fmt: skip
    with pytest.raises(ConfigError, match=r"cf.yaml:3: theme 'Späte_Lieferung': id: .*"
                                          r"lower-case ASCII letters"):
        Codeframe.from_yaml(path)
    path = _write(tmp_path, """\
        name: mine
        themes:
          - id: late
            label: Late
            description: late parcels
            keywords: [late]
            keywords: [delay]
        """)  # fmt: skip
    with pytest.raises(ConfigError, match=r"cf.yaml:7: key 'keywords' is written twice"):
        Codeframe.from_yaml(path)
    path = _write(tmp_path, "name: mine\nthemes: [\n")
    with pytest.raises(ConfigError, match=r"not valid YAML(.|\n)*in \".*cf.yaml\", line 3"):
        Codeframe.from_yaml(path)


# ----------------------------------------------------------------- review fixes (labels, cards)


def test_field_and_cross_theme_problems_come_in_one_report(tmp_path):
    """A misspelt field used to hide the cross-theme problems until it was fixed: two rounds
    of errors where the README promises one. Each line points at the field at fault."""
    path = _write(tmp_path, """\
        name: shop
        touchpoints: [product, store]
        themes:
          - id: fabric
            label: Fabric
            description: The material.
            keyword: [fabric]
          - id: fit
            label: Fit & size
            description: Runs small or large.
          - id: colour
            label: Fit & size
            description: The colour.
          - id: Price Value
            label: Price
            description: Too expensive.
            touchpoint: shop
          - id: fit
            label: Pockets
            description: Pockets.
        """)  # fmt: skip
    with pytest.raises(ConfigError) as info:
        Codeframe.from_yaml(path)
    msg = str(info.value)
    assert "5 problem(s)" in msg
    assert f"{path}:7: theme 'fabric': keyword: unknown field" in msg
    assert f"{path}:12: theme 'colour': same label as 'fit'" in msg
    assert f"{path}:14: theme 'Price Value': id: 'Price Value' is not a valid id" in msg
    assert f"{path}:17: theme 'Price Value': unknown touchpoint 'shop'" in msg  # its own line
    assert f"{path}:18: theme 'fit': duplicate id (theme #2 has it too)" in msg  # the repeat
    lines = [int(x.split(":")[1]) for x in msg.splitlines()[1:]]
    assert lines == sorted(lines)  # in the order of the file
    broken = {"name": "x", "touchpoints": "web", "themes": [{"label": 3}, "nope", {"id": "a"}]}
    with pytest.raises(ConfigError, match="problem"):  # odd types: reported, not a crash
        Codeframe.from_dict(broken)


def _labels(tmp_path, body: str, name: str = "labels.csv"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


COLLIDE = {"name": "collide", "themes": [
    {"id": "delivery", "label": "Shipping", "description": "Delivery speed, the parcel."},
    {"id": "shipping", "label": "Shipping cost", "description": "Postage and fees."}]}  # fmt: skip


def test_an_id_is_never_read_as_another_themes_label(tmp_path):
    from cxnlp.io import ReadWarning
    from cxnlp.training.themes import read_theme_labels

    cf = Codeframe.from_dict(COLLIDE)
    path = _labels(tmp_path, """\
        text,theme
        the postage fee was outrageous,shipping
        it came late,delivery
        """)  # fmt: skip
    data = read_theme_labels(path, cf)
    assert data["themes"].tolist() == [["shipping"], ["delivery"]]
    # written as the label is, the name is still the id, and the other reading is said
    path = _labels(tmp_path, "text,theme\nthe postage fee,Shipping\nit came late,delivery\n")
    with pytest.warns(ReadWarning, match="'Shipping' was read as theme 'shipping'.*'delivery'"):
        assert read_theme_labels(path, cf)["themes"].tolist()[0] == ["shipping"]


def test_labels_errors_number_rows_as_the_file_does(tmp_path):
    """Blank lines and a cell over two lines: the unknown name is on line 8 of the file."""
    from cxnlp.training.themes import read_theme_labels

    path = tmp_path / "rows.csv"
    path.write_text('text,themes\n"first line\nsecond line",fit\n\nsome colour,colour\n\n\n'
                    "another,sizing\n", encoding="utf-8")  # fmt: skip
    cf = Codeframe.load("retail")
    with pytest.raises(InputError, match=r"'sizing' \(rows 8\)"):
        read_theme_labels(path, cf)
    # a format without lines (JSON Lines with a blank line): the row is named by its text
    path = tmp_path / "rows.jsonl"
    path.write_text('{"text": "fine", "theme": ""}\n\n{"text": "too tight", "theme": "sizing"}\n',
                    encoding="utf-8")  # fmt: skip
    with pytest.raises(InputError, match=r"'sizing' \(text 'too tight'\)"):
        read_theme_labels(path, cf)
    # a workbook with an empty row between responses: the sheet's row number
    import openpyxl

    wb = openpyxl.Workbook()
    for row in (["text", "theme"], ["fine", "fit"], [None, None], ["too tight", "sizing"]):
        wb.active.append(row)
    wb.save(tmp_path / "rows.xlsx")
    with pytest.raises(InputError, match=r"'sizing' \(rows 4\)"):
        read_theme_labels(tmp_path / "rows.xlsx", cf)


def test_theme_column_mistakes_get_a_hint(tmp_path):
    from cxnlp.training.themes import read_theme_labels

    path = _labels(tmp_path, """\
        text,themes
        a late parcel,"delivery_speed, billing"
        a fit issue,['product_quality']
        nice,"['billing', 'delivery_speed']"
        """)  # fmt: skip
    with pytest.raises(InputError) as info:
        read_theme_labels(path, Codeframe.load("generic"))
    msg = str(info.value)
    assert "separate them with ';': 'delivery_speed;billing'" in msg
    assert "a Python list written to the file: write 'product_quality'" in msg
    assert "write 'billing;delivery_speed'" in msg


PII_TEXTS = ["Email jane.doe@example.com about the late parcel",
             "Call me on 07700 900123, the parcel came late",
             "jane.doe@example.com here again: I was charged twice",
             "My number 07700 900123 - charged twice for one order"]  # fmt: skip


def test_labels_get_the_cleaning_and_redaction_of_analyze(tmp_path, encoder):
    """Personal data in the labels' texts never reaches the head (its n-gram vocabulary held
    'jane doe' and '07700 900123'), and the head learns from texts as analyze shows them."""
    import json

    from cxnlp.training.themes import read_theme_labels, train_themes

    themes = ["delivery_speed", "delivery_speed", "billing", "billing"]
    frame = pd.DataFrame({"text": PII_TEXTS + ["Parcel late &amp; damaged", "Charged twice"],
                          "theme": themes + ["delivery_speed", "billing"]})  # fmt: skip
    path = tmp_path / "labels.csv"
    frame.to_csv(path, index=False)
    data = read_theme_labels(path, Codeframe.load("generic"))
    assert data["text"].tolist()[:2] == ["Email [EMAIL] about the late parcel",
                                         "Call me on [PHONE], the parcel came late"]
    assert data["text"].tolist()[4] == "Parcel late & damaged"  # normalised as analyze does
    assert data.attrs["clean"]["redacted"] == {"email": 2, "phone": 2}
    out = tmp_path / "head"
    info = train_themes("generic", path, out, encoder=encoder, cv=0)
    stored = " ".join((out / f).read_text() for f in ("themes.json", "training.json",
                                                       "MODEL_CARD.md")).lower()  # fmt: skip
    assert "jane" not in stored and "07700" not in stored and "example.com" not in stored
    assert "email" in json.loads((out / "themes.json").read_text())["ngram_vocabulary"]
    assert info["clean"]["redact_pii"] and "personal data redacted (2 email, 2 phone)" in (
        out / "MODEL_CARD.md").read_text()
    # a config that turns redaction off is followed, and the card says so
    data = read_theme_labels(path, Codeframe.load("generic"),
                             config={"clean": {"redact_pii": False}})  # fmt: skip
    assert "jane.doe@example.com" in data["text"].iloc[0]


def _card_info(**extra) -> dict:
    info = {"kind": "themes", "codeframe": "shop", "labels_file": "l.csv",
            "labels_sha256": "0" * 64, "texts": 40, "texts_without_theme": 25,
            "counts": {"fit": 12, "pockets": 1},
            "cv": {"folds": 3, "micro_f1": 0.5, "macro_f1": 0.6, "top1_accuracy": 0.7,
                   "per_theme": {"fit": {"n": 12, "precision": 0.5, "recall": 0.4, "f1": 0.44},
                                 "pockets": {"n": 1, "precision": 1.0, "recall": 1.0,
                                             "f1": 1.0}}},
            "cv_asked": 3, "encoder": "m", "params": {"exclusive": False}, "created": "now",
            "clean": {"normalize": True, "redact_pii": True, "redacted": {}}}  # fmt: skip
    return {**info, **extra}


def test_theme_card_says_what_was_fitted_and_how_far_to_trust_it(tmp_path):
    from cxnlp.training.themes import _card

    card = _card(_card_info(), tmp_path)
    assert "One-vs-rest logistic regressions" in card
    assert "\n\nFiles: `themes.safetensors`" in card  # its own paragraph
    assert "(40 texts, 25 of them without any theme): micro-F1 **0.500**" in card
    assert "| pockets | 1 | 1.00 | 1.00 | 1.00 | n < 10: rough |" in card
    assert "| fit | 12 | 0.50 | 0.40 | 0.44 |  |" in card
    assert "personal data redacted (none found)" in card
    card = _card(_card_info(params={"exclusive": True}), tmp_path)
    assert "One-vs-rest" not in card and "One multinomial logistic regression" in card
    assert "`--exclusive`" in card


class _FakeAspects:
    """An aspect model's interface without its weights (what use_aspect_model checks)."""

    classes = ["none", "negative", "neutral", "positive"]

    def __init__(self, aspects: dict[str, str]) -> None:
        self.info = {"codeframe": "restaurant", "aspects": aspects, "artifact_id": "asp@1"}

    def predict_proba(self, texts, pairs):
        return np.tile([0.1, 0.2, 0.3, 0.4], (len(texts), 1))


def test_aspect_model_of_another_codeframe_is_refused_or_warned(encoder):
    clf = CodeframeClassifier(Codeframe.load("retail"), encoder)
    with pytest.raises(ConfigError, match="knows none of the themes of codeframe 'retail'.*"
                                          "cxnlp train aspects"):
        clf.use_aspect_model(_FakeAspects({"food": "Food", "service": "Service"}))
    some = {clf.theme_ids_[0]: "x", "food": "Food"}
    with pytest.warns(UserWarning, match=f"not trained on {len(clf.theme_ids_) - 1} theme"):
        clf.use_aspect_model(_FakeAspects(some))
    labels = {f"a{i}": t.label for i, t in enumerate(clf.codeframe_.themes)}  # by label: fine
    assert clf.use_aspect_model(_FakeAspects(labels)).aspect_model_.info["aspects"] == labels


def test_yaml_values_that_are_not_text_say_to_quote_them(tmp_path):
    """Unquoted 10, yes and an empty entry in a keyword list: YAML makes them a number, a
    boolean and None; each problem says what YAML read and how to write it."""
    path = tmp_path / "kw.yaml"
    path.write_text("name: kw\nthemes:\n  - id: fit\n    label: Fit\n    description: Fit.\n"
                    "    keywords: [10, yes, null, loose]\n")  # fmt: skip
    with pytest.raises(ConfigError) as err:
        Codeframe.load(path)
    said = str(err.value)
    assert "kw.yaml:6: theme 'fit': keywords.0: YAML reads 10 as a number" in said
    assert "put it in quotes ('10')" in said and "as a boolean, not text" in said
    assert "keywords.2: an empty entry: give it a value or delete it" in said
