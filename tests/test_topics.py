"""Topic discovery (BERTopic on our embeddings), codeframe suggest and train themes.

``tests/data/topics_feedback.csv``: 200 short feedback lines, 50 each about late delivery,
billing errors, app bugs and shop staff (column ``subject`` is the truth).
``tests/data/theme_labels.csv``: 34 texts labelled with generic-codeframe themes (ids,
labels, ``;``-separated pairs, and texts without a theme).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from cxnlp.cli import app
from cxnlp.config import TopicsConfig
from cxnlp.encode import embed_documents
from cxnlp.errors import InputError, ModelError
from cxnlp.pipeline import Analyzer
from cxnlp.results import Results
from cxnlp.themes import Codeframe, CodeframeClassifier

DATA = Path(__file__).parent / "data"

pytest.importorskip("bertopic")

from cxnlp.topics import TOPIC_COLUMNS, TopicModel, discover_topics  # noqa: E402

runner = CliRunner()


@pytest.fixture(scope="module")
def feedback() -> pd.DataFrame:
    return pd.read_csv(DATA / "topics_feedback.csv")


@pytest.fixture(scope="module")
def doc_vectors(encoder, feedback) -> np.ndarray:
    return embed_documents(encoder, feedback["comment"].tolist()).docs


@pytest.fixture(scope="module")
def fitted(encoder, feedback, doc_vectors):
    model = TopicModel(seed=0, encoder=encoder)
    topics = model.fit_transform(feedback["comment"].tolist(), doc_vectors)
    return model, topics


@pytest.fixture(scope="module")
def results(analyzer, feedback):
    return analyzer.analyze(feedback[["comment"]], text_column="comment")


def _topic_of(subject: str, feedback: pd.DataFrame, topics) -> int:
    """The topic most of a subject's lines fall in."""
    return int(pd.Series(np.asarray(topics))[feedback["subject"].eq(subject).to_numpy()].mode()[0])


def test_topics_found_and_labelled(fitted, feedback):
    model, topics = fitted
    assert 3 <= len(model.topic_ids_) <= 12
    assert all(model.labels_[t].strip() for t in model.topic_ids_)
    assert all(len(model.keywords_[t]) >= 3 for t in model.topic_ids_)
    # the four subjects land in four different topics, each fairly pure
    majors = {s: _topic_of(s, feedback, topics) for s in feedback["subject"].unique()}
    assert len(set(majors.values())) == 4, majors
    for subject, t in majors.items():
        members = feedback["subject"][np.asarray(topics) == t]
        assert (members == subject).mean() >= 0.9, (subject, members.value_counts())


def test_same_input_and_seed_same_topics(fitted, encoder, feedback, doc_vectors):
    model, topics = fitted
    again = TopicModel(seed=0, encoder=encoder)
    topics2 = again.fit_transform(feedback["comment"].tolist(), doc_vectors)
    assert np.array_equal(topics, topics2)
    assert again.labels_ == model.labels_ and again.keywords_ == model.keywords_


def test_fit_on_a_sample_transforms_the_rest(encoder, feedback, doc_vectors, fitted):
    model = TopicModel(seed=0, max_fit_docs=120, encoder=encoder)
    topics = model.fit_transform(feedback["comment"].tolist(), doc_vectors)
    assert len(model.fit_index_) == 120 and len(topics) == len(feedback)
    rest = np.setdiff1d(np.arange(len(feedback)), model.fit_index_)
    assert (topics[rest] >= 0).mean() > 0.8  # transformed, not left as outliers
    with pytest.raises(ValueError, match="one row per document"):
        model.transform(["a", "b"], doc_vectors[:3])
    with pytest.raises(ValueError, match="umap_epochs must be >= 1"):
        TopicModel(umap_epochs=0).fit(["a", "b"], doc_vectors[:2])
    assert TopicModel(umap_epochs=37)._build(500).umap_model.umap_params["n_epochs"] == 37


def test_outliers_reduced_and_reported(fitted):
    model, topics = fitted
    assert 0.0 <= model.fit_outlier_share_ < 0.5
    assert np.mean(topics == -1) <= model.fit_outlier_share_
    strict = TopicModel(outlier_threshold=None)
    assert strict.get_params()["outlier_threshold"] is None


def test_pipeline_fills_topics_table(results, feedback):
    topics = results.topics
    assert list(topics.columns) == TOPIC_COLUMNS
    assert len(topics) >= 3 and topics["size"].is_monotonic_decreasing
    assert topics["label"].str.len().gt(0).all()
    assert all(1 <= len(r) <= 3 for r in topics["representatives"])
    assert (
        topics[["negative", "neutral", "positive", "mixed"]].sum(axis=1).between(0.99, 1.01).all()
    )
    note = results.metrics["topics"]
    assert note["status"] == "ok" and note["n_topics"] == len(topics)
    assert 0.0 <= note["outlier_share"] <= note["outlier_share_before_reduction"] <= 1.0
    col = results.responses["topic"]
    assert str(col.dtype) == "Int64" and col.notna().all()
    assert int(topics["size"].sum() + (col == -1).sum()) == len(feedback)
    # an obvious subject is matched to the codeframe theme that covers it
    by_id = topics.set_index("topic")
    app_topic = _topic_of("app", feedback, col.to_numpy())
    assert by_id.loc[app_topic, "matched_theme"] == "digital_bugs"
    assert by_id.loc[app_topic, "theme_similarity"] >= TopicsConfig().match_threshold
    late = _topic_of("delivery", feedback, col.to_numpy())
    assert by_id.loc[late, "matched_theme"] in {"delivery_speed", "delivery"}


def test_results_round_trip_with_topics(results, tmp_path):
    from cxnlp.results import Results

    results.save(tmp_path, report=False)
    back = Results.load(tmp_path)
    assert list(back.topics["topic"]) == list(results.topics["topic"])
    assert json.loads((tmp_path / "metrics.json").read_text())["topics"]["status"] == "ok"


def test_unmatched_topic_has_empty_theme(encoder, feedback, doc_vectors, fitted):
    from cxnlp.topics import topic_table

    model, topics = fitted
    cf = Codeframe.from_dict(
        {
            "name": "tiny",
            "themes": [
                {
                    "id": "delivery_speed",
                    "label": "Delivery speed",
                    "description": "The parcel or order arrived late or took too long to arrive.",
                }
            ],
        }
    )
    table = topic_table(
        model,
        topics,
        CodeframeClassifier(cf, encoder),
        match_threshold=0.45,
    )
    by_id = table.set_index("topic")
    assert by_id.loc[_topic_of("delivery", feedback, topics), "matched_theme"] == "delivery_speed"
    assert by_id.loc[_topic_of("staff", feedback, topics), "matched_theme"] == ""


def test_skipped_with_a_note(analyzer, results, monkeypatch):
    few = analyzer.analyze(pd.DataFrame({"comment": ["Late parcel.", "Rude staff."]}))
    assert few.topics.empty
    assert few.metrics["topics"]["status"] == "skipped"
    assert "min_docs" in few.metrics["topics"]["reason"]
    assert "topic" not in few.responses

    import cxnlp.topics as topics_mod

    monkeypatch.setattr(topics_mod, "topics_available", lambda: False)
    copy = type(results)(responses=results.responses.copy(), metrics={})
    assert discover_topics(copy, analyzer).empty
    assert "pip install" in copy.metrics["topics"]["reason"]

    off = analyzer.with_overrides(**{"topics.enabled": False})
    copy = type(results)(responses=results.responses.copy(), metrics={})
    assert discover_topics(copy, off).empty and copy.metrics["topics"]["status"] == "disabled"


# ----------------------------------------------------------------- codeframe suggest


def test_codeframe_suggest_writes_valid_yaml(tmp_path):
    out = tmp_path / "suggested.yaml"
    res = runner.invoke(
        app,
        [
            "codeframe",
            "suggest",
            str(DATA / "topics_feedback.csv"),
            "--out",
            str(out),
            "--text-column",
            "comment",
        ],
    )
    assert res.exit_code == 0, res.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Codeframe suggested by")
    cf = Codeframe.from_yaml(out)
    assert cf.name == "suggested-topics_feedback" and len(cf.themes) >= 3
    assert all(t.examples and t.keywords and len(t.examples) <= 3 for t in cf.themes)
    assert all(len(e) <= 160 for t in cf.themes for e in t.examples)
    assert any("Overlaps 'digital_bugs'" in t.description for t in cf.themes)
    overlapping = sum("Overlaps '" in t.description for t in cf.themes)
    if overlapping == len(cf.themes):  # the header never lists nothing under "it misses:"
        assert "it misses none of them" in text
    else:
        assert "what it misses:\n#   - " in text
    assert isinstance(yaml.safe_load(text)["themes"], list)
    # the suggestion works as a codeframe straight away
    assert CodeframeClassifier(cf).theme_ids_ == cf.ids


def test_codeframe_suggest_needs_enough_text(tmp_path):
    src = tmp_path / "tiny.csv"
    pd.DataFrame({"comment": ["Late parcel", "Rude staff", ""]}).to_csv(src, index=False)
    res = runner.invoke(app, ["codeframe", "suggest", str(src), "--out", str(tmp_path / "x.yaml")])
    assert res.exit_code == 2 and "min_docs" in res.output
    assert not (tmp_path / "x.yaml").exists()


# ----------------------------------------------------------------- train themes


def test_train_themes_exclusive(tmp_path, encoder):
    args = ["train", "themes", "--codeframe", "generic", "--exclusive", "--out",
            str(tmp_path / "ex"), "--labels"]  # fmt: skip
    res = runner.invoke(app, [*args, str(DATA / "theme_labels.csv")])  # 3 texts have two
    assert res.exit_code == 0, res.output
    clf = CodeframeClassifier.load(tmp_path / "ex", encoder=encoder)
    assert clf.exclusive and clf.coef_.shape[0] == len(clf.theme_ids_) + 1
    texts = ["The app crashed again at checkout", "My parcel came a week late"]
    pred = clf.predict(encoder.encode(texts), texts)
    assert pred[0, clf.theme_ids_.index("digital_bugs")]
    assert pred[1, clf.theme_ids_.index("delivery_speed")]


def test_train_commands_take_the_clean_settings_of_a_config(tmp_path):
    """`train themes --config` redacts (or not) the labels as `analyze --config` would."""
    labels = pd.DataFrame({"text": ["Email jane.doe@example.com about the late parcel",
                                    "Charged twice for one order"] * 4,
                           "theme": ["delivery_speed", "billing"] * 4})  # fmt: skip
    labels.to_csv(tmp_path / "labels.csv", index=False)
    (tmp_path / "keep.yaml").write_text("clean:\n  redact_pii: false\n")
    stored = {}
    for name, extra in (("default", []), ("keep", ["--config", str(tmp_path / "keep.yaml")])):
        res = runner.invoke(app, ["train", "themes", "--codeframe", "generic", "--cv", "0",
                                  "--labels", str(tmp_path / "labels.csv"),
                                  "--out", str(tmp_path / name), *extra])  # fmt: skip
        assert res.exit_code == 0, res.output
        stored[name] = json.loads((tmp_path / name / "training.json").read_text())["clean"]
    assert stored["default"]["redact_pii"] and stored["default"]["redacted"] == {"email": 4}
    assert not stored["keep"]["redact_pii"]


def test_train_themes_round_trip(tmp_path, encoder, analyzer):
    out = tmp_path / "themes-test"
    res = runner.invoke(
        app,
        [
            "train",
            "themes",
            "--codeframe",
            "generic",
            "--labels",
            str(DATA / "theme_labels.csv"),
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    assert {"themes.safetensors", "themes.json", "MODEL_CARD.md"} <= {p.name for p in out.iterdir()}
    card = (out / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert "| delivery_speed | 8 |" in card and "| billing.overcharge | 8 |" in card
    assert "micro-F1" in card and f"model: {out.as_posix()}" in card
    info = json.loads((out / "training.json").read_text())
    assert info["texts"] == 34 and info["texts_without_theme"] == 2
    assert info["counts"]["price_value"] == 1 and 0 < info["cv"]["micro_f1"] <= 1

    clf = CodeframeClassifier.load(out, encoder=encoder)
    assert hasattr(clf, "coef_")
    vecs = encoder.encode(["The app crashed again at checkout", "My parcel came a week late"])
    pred = clf.predict(vecs, ["The app crashed again at checkout", "My parcel came a week late"])
    ids = clf.theme_ids_
    assert pred[0, ids.index("digital_bugs")] and pred[1, ids.index("delivery_speed")]

    # themes.model in the config makes the pipeline use it
    trained = analyzer.with_overrides(**{"themes.model": str(out)})
    res = trained.analyze(pd.DataFrame({"comment": ["The app keeps crashing."]}))
    assert res.responses["themes"].iloc[0][0] == "digital_bugs"
    # the run manifest names the trained head exactly (folder + hash of its verified files)
    head_id = res.manifest["models"]["themes"]
    assert head_id == clf.model_id_ and head_id.startswith(f"{out.name}@")
    assert res.manifest["models"]["codeframe"] == "generic"  # the head's, whatever the config
    # an injected classifier is what the manifest names, not the config's codeframe
    injected = Analyzer(analyzer.config, encoder=encoder,
                        themes=CodeframeClassifier(Codeframe.load("retail"), encoder))  # fmt: skip
    res = injected.analyze(pd.DataFrame({"comment": ["The app keeps crashing."]}))
    assert res.manifest["models"]["themes"] == res.manifest["models"]["codeframe"] == "retail"
    # its labels travel with the results (the manifest records the codeframe), also read
    # back elsewhere: before, views re-read themes.codeframe / themes.model from the config
    from cxnlp import views

    assert views.theme_labels(res)["store_staff"] == "Store & staff"
    # an injected part is kept while its settings stay, rebuilt when they change
    assert injected.with_overrides(chunk_size=5).themes.codeframe_.name == "retail"
    assert injected.with_overrides(codeframe="telecom").themes.codeframe_.name == "telecom"
    trained_res = trained.analyze(pd.DataFrame({"comment": ["The app keeps crashing."]}))
    trained_res.save(tmp_path / "saved", report=False)
    out.rename(tmp_path / "moved")  # the config's themes.model no longer resolves
    try:
        loaded = Results.load(tmp_path / "saved")
        label = clf.codeframe_.theme("digital_bugs").label
        assert label != "digital_bugs" and views.theme_labels(loaded)["digital_bugs"] == label
    finally:
        (tmp_path / "moved").rename(out)
    # on the command line a trained head and --codeframe are one choice too many
    config = tmp_path / "head.yaml"
    config.write_text(f"themes: {{model: {out}}}\n")
    refused = runner.invoke(app, ["analyze", str(DATA / "theme_labels.csv"), "--config",
                                  str(config), "--codeframe", "retail", "--out",
                                  str(tmp_path / "o")])  # fmt: skip
    assert refused.exit_code == 2 and "Drop one of them" in refused.output
    # the card also covers training.json: an edited record of the training is refused too
    import shutil

    edited = shutil.copytree(out, tmp_path / "edited")
    (edited / "training.json").write_text(json.dumps({**info, "texts": 1000}))
    with pytest.raises(ModelError, match="training.json does not match its model card"):
        CodeframeClassifier.load(edited, encoder=encoder)


def test_train_themes_unknown_theme_is_one_clear_error(tmp_path):
    labels = tmp_path / "labels.csv"
    pd.DataFrame(
        {"comment": ["Late parcel", "Rude staff"], "code": ["delivery_speed", "Rudeness"]}
    ).to_csv(labels, index=False)
    res = runner.invoke(
        app,
        [
            "train",
            "themes",
            "--codeframe",
            "generic",
            "--labels",
            str(labels),
            "--out",
            str(tmp_path / "m"),
        ],
    )
    assert res.exit_code == 2
    assert "'Rudeness' (rows 3)" in res.output and "generic" in res.output
    from cxnlp.training.themes import read_theme_labels

    with pytest.raises(InputError, match="--theme-column"):
        read_theme_labels(labels, Codeframe.load("generic"), theme_column="nope")


_JIT_PROBE = """
import hashlib, importlib, json, warnings
import numpy as np
warnings.simplefilter("ignore")
from cxnlp.topics import _UNCACHED_JIT, ExactUMAP
X = np.random.default_rng(0).normal(size=(300, 16)).astype(np.float32)
layout = ExactUMAP(n_neighbors=10, random_state=0, n_components=2).fit(X).embedding_
stats = [getattr(importlib.import_module(m), n).stats for m, n in _UNCACHED_JIT]
print(json.dumps({"hits": [sum(s.cache_hits.values()) for s in stats],
                  "misses": [sum(s.cache_misses.values()) for s in stats],
                  "layout": hashlib.sha256(layout.tobytes()).hexdigest()}))
"""


def test_umap_compiles_once_then_loads_from_numba_cache():
    """A second process loads UMAP's compiled layout code instead of compiling it (~3 s of
    every analyze run on 2 cores), and lays out the same points bit for bit."""
    import subprocess
    import sys

    def probe() -> dict:
        out = subprocess.run([sys.executable, "-c", _JIT_PROBE], capture_output=True,
                             text=True, check=True).stdout  # fmt: skip
        return json.loads(out.strip().splitlines()[-1])

    first, second = probe(), probe()
    assert second["hits"] == [1, 1, 1] and second["misses"] == [0, 0, 0]
    assert first["layout"] == second["layout"]


def test_theme_labels_that_cannot_teach_are_warned_about(tmp_path):
    """A label without its text is skipped with a warning naming the row; labels that all
    share a theme leave the head no example without it, which is said too."""
    from cxnlp.io import ReadWarning
    from cxnlp.training.themes import read_theme_labels

    labels = tmp_path / "labels.csv"
    pd.DataFrame({"comment": ["Late parcel", "", "Parcel lost"],
                  "code": ["delivery_speed", "delivery_speed", "delivery_speed"]}).to_csv(
        labels, index=False)  # fmt: skip
    with pytest.warns(ReadWarning) as seen:
        data = read_theme_labels(labels, Codeframe.load("generic"))
    said = " ".join(str(w.message) for w in seen)
    assert "1 row(s) have a theme but no text in 'comment'" in said and "(rows 3)" in said
    assert "every labelled text is coded delivery_speed" in said
    assert data["text"].tolist() == ["Late parcel", "Parcel lost"]


def test_suggested_ids_and_labels_are_made_unique():
    """Two topics with the same top words get 'fit_size' / 'fit_size_2' and 'Fit / size' /
    'Fit / size (2)': a suggested codeframe always loads (labels must differ)."""
    from cxnlp.topics import _slug, _unique

    ids: set[str] = set()
    assert [_slug(["fit", "size"], ids, "t") for _ in range(3)] == [
        "fit_size", "fit_size_2", "fit_size_3"]  # fmt: skip
    labels: set[str] = set()
    assert [_unique(x, labels, "{} ({})") for x in ("Fit / size", "fit / size", "Fit / size")] == [
        "Fit / size", "fit / size (2)", "Fit / size (3)"]  # fmt: skip
