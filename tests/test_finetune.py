"""Fine-tuned MiniLM classifiers (cxnlp.training.finetune) and the aspect model on top of them.

Real model, tiny data: a dozen hand-written restaurant sentences x 3 aspects, one epoch. These
check the mechanics (training, determinism, save/load, the CLI, mentions), not accuracy:
that is measured in ``benchmarks/themes.py --only semeval_ft,mams_ft,airline_ft``.
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
from cxnlp.errors import ModelError
from cxnlp.themes import Codeframe, CodeframeClassifier
from cxnlp.training.aspects import ASPECT_CLASSES, aspect_pairs, read_aspect_labels
from cxnlp.training.finetune import FinetuneConfig, PairClassifier, finetune

LABELS = Path(__file__).parent / "data" / "aspect_labels.csv"
TINY = FinetuneConfig(epochs=1, batch_size=12, max_length=32, lr=1e-4, seed=3)
THEMES = {
    "name": "tiny-restaurant",
    "themes": [
        {"id": "food", "label": "Food", "description": "The dishes, their taste and quality."},
        {"id": "service", "label": "Service", "description": "Waiters, staff, how fast."},
        {"id": "price", "label": "Price", "description": "Prices, value for money, the bill."},
    ],
}


@pytest.fixture(scope="module")
def codeframe() -> Codeframe:
    return Codeframe.from_dict(THEMES, source="test")


@pytest.fixture(scope="module")
def pairs(codeframe):
    data = read_aspect_labels(LABELS, codeframe)
    return aspect_pairs(data.text, data.aspects, {t.id: t.label for t in codeframe.themes})


@pytest.fixture(scope="module")
def trained(encoder, pairs):
    T, P, L = pairs
    return finetune(T, L, ASPECT_CLASSES, pairs=P, config=TINY, base=encoder.folder)


def test_aspect_labels_give_one_pair_per_text_and_aspect(codeframe, pairs):
    T, P, L = pairs
    assert len(T) == 12 * 3  # 12 distinct texts, every aspect of the codeframe
    assert L.count("none") == 36 - 16  # 16 labelled (text, aspect) rows
    i = T.index("Friendly staff and fair prices.")
    assert P[i : i + 3] == ["Food", "Service", "Price"]
    assert L[i : i + 3] == ["none", "positive", "positive"]


def test_one_polarity_labels_are_warned_about(codeframe, tmp_path):
    from cxnlp.io import ReadWarning

    one = tmp_path / "one.csv"
    pd.DataFrame({"text": ["Great food.", "Lovely staff."], "aspect": ["food", "service"],
                  "polarity": ["positive", "positive"]}).to_csv(one, index=False)  # fmt: skip
    with pytest.warns(ReadWarning, match="every labelled aspect is positive"):
        read_aspect_labels(one, codeframe)


def test_finetune_is_deterministic_and_round_trips(encoder, pairs, trained, tmp_path):
    T, P, L = pairs
    again = finetune(T, L, ASPECT_CLASSES, pairs=P, config=TINY, base=encoder.folder)
    p1 = trained.predict_proba(T, P)
    assert p1.shape == (36, 4) and np.allclose(p1.sum(axis=1), 1, atol=1e-5)
    assert np.array_equal(p1, again.predict_proba(T, P))  # same seed, same weights
    assert trained.info["train_examples"] == 36 and trained.info["epoch"] == 1
    folder = trained.save(tmp_path / "m")
    loaded = PairClassifier.load(folder)
    assert loaded.classes == list(ASPECT_CLASSES)
    np.testing.assert_allclose(loaded.predict_proba(T, P), p1, atol=1e-6)
    assert "seed 3" in (folder / "MODEL_CARD.md").read_text()
    meta = json.loads((folder / "finetune.json").read_text())
    assert meta["config"]["seed"] == 3 and meta["config"]["epochs"] == 1
    # a modified weights file is refused, with the way out
    with open(folder / "model.safetensors", "ab") as fh:
        fh.write(b"\0")
    with pytest.raises(ModelError, match="does not match its model card"):
        PairClassifier.load(folder)
    with pytest.raises(ModelError, match="not found"):
        CodeframeClassifier("restaurant").use_aspect_model(tmp_path / "missing")


def test_single_text_finetune_with_validation_picks_an_epoch(encoder):
    texts = ["late again", "delayed two hours", "bag lost", "where is my luggage"] * 3
    labels = ["delay", "delay", "bags", "bags"] * 3
    cfg = FinetuneConfig(epochs=2, batch_size=8, max_length=16, lr=2e-4, seed=0, patience=2)
    m = finetune(texts, labels, ["delay", "bags"], val=(texts[:4], None, labels[:4]),
                 config=cfg, base=encoder.folder)  # fmt: skip
    assert len(m.info["val_history"]) == 2
    assert m.info["epoch"] == 1 + int(np.argmax(m.info["val_history"]))
    assert m.predict(["my flight was delayed"])[0] in ("delay", "bags")
    with pytest.raises(ValueError, match="labels not in classes"):
        finetune(texts, ["x"] * 12, ["delay", "bags"], config=cfg, base=encoder.folder)


def test_mentions_take_sentiment_from_the_aspect_model(encoder, codeframe, trained):
    clf = CodeframeClassifier(codeframe, encoder, threshold=0.0, margin=1.0, max_themes=None)
    texts = ["The soup was cold and bland.", "Our server was attentive and quick."]
    sents = pd.DataFrame({"row_id": [0, 1], "sentence": [0, 0], "start": [0, 0],
                          "end": [28, 35], "text": texts})  # fmt: skip
    vecs = encoder.encode(sents["text"].tolist())
    plain = clf.mentions(sents, vecs)
    assert plain["sentiment"].isna().all()  # no sentence sentiment, no aspect model
    m = clf.use_aspect_model(trained).mentions(sents, vecs)
    assert len(m) == len(plain) and m["sentiment"].isin(["negative", "neutral", "positive"]).all()
    hit = m.iloc[0]
    names = {t.id: t.label for t in codeframe.themes}
    p = trained.predict_proba([sents.text[hit.row_id]], [names[hit.theme]])[0, 1:]
    assert hit.sentiment_score == pytest.approx((p[2] - p[0]) / p.sum(), abs=1e-3)


def test_cli_train_aspects_writes_a_loadable_folder(codeframe, tmp_path):
    cf = tmp_path / "tiny.yaml"
    codeframe.to_yaml(cf)
    out = tmp_path / "aspects"
    res = CliRunner().invoke(app, ["train", "aspects", "--codeframe", str(cf), "--labels",
                                   str(LABELS), "--out", str(out), "--epochs", "1",
                                   "--seed", "1"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "Saved aspect model" in res.output and "aspect_model:" in res.output
    model = PairClassifier.load(out)
    assert model.info["aspects"] == {"food": "Food", "service": "Service", "price": "Price"}
    assert model.info["counts"]["none"] == 20
    bad = tmp_path / "bad.csv"
    bad.write_text("text,aspect,polarity\nGood soup.,drinks,positive\n")
    res = CliRunner().invoke(app, ["train", "aspects", "--codeframe", str(cf), "--labels",
                                   str(bad), "--out", str(tmp_path / "x")])  # fmt: skip
    assert res.exit_code != 0 and "aspect 'drinks'" in res.output
    assert "Traceback" not in res.output


def test_analyze_uses_the_configured_aspect_model(encoder, codeframe, trained, tmp_path):
    """``themes.aspect_model`` reaches the run: mention sentiment from the model, its id in
    the manifest."""
    from cxnlp.config import apply_overrides, load_config
    from cxnlp.pipeline import Analyzer

    folder = trained.save(tmp_path / "aspects")
    cf = tmp_path / "cf.yaml"
    cf.write_text(yaml.safe_dump(THEMES), encoding="utf-8")
    config = apply_overrides(load_config(), codeframe=str(cf), aspect_model=str(folder),
                             **{"topics.enabled": False})  # fmt: skip
    res = Analyzer(config, encoder=encoder).analyze(
        pd.DataFrame({"comment": ["The soup was cold and bland.", "Our waiter was quick."]})
    )
    assert res.manifest["models"]["aspects"]
    m = res.mentions
    assert len(m) and m["sentiment"].isin(["negative", "neutral", "positive"]).all()


def test_aspect_labels_without_any_aspect_are_a_clear_error(codeframe, tmp_path):
    """No labelled (text, aspect) pair and --none-rate 0 left no pair at all: an IndexError."""
    from cxnlp.errors import InputError
    from cxnlp.io import ReadWarning
    from cxnlp.training.aspects import train_aspects

    empty = tmp_path / "empty.csv"
    empty.write_text("text,aspect,polarity\na,,\nb,,\n")
    for rate in (0.0, 1.0):
        with pytest.raises(InputError, match="no text has a labelled aspect"):
            train_aspects(codeframe, empty, tmp_path / "m", none_rate=rate, config=TINY)
    one = tmp_path / "one.csv"
    one.write_text("text,aspect,polarity\nGood soup.,food,positive\n")
    with pytest.raises(InputError, match="every training pair is 'positive'.*--none-rate"), \
            pytest.warns(ReadWarning, match="every labelled aspect is positive"):
        train_aspects(codeframe, one, tmp_path / "m", none_rate=0.0, config=TINY)


def test_aspect_labels_read_ids_first_clean_texts_and_number_rows(tmp_path):
    """As for theme labels: an id wins over another theme's label, texts are redacted as
    analyze does, and a bad row is named by its line in the file."""
    from cxnlp.errors import InputError

    cf = Codeframe.from_dict({"name": "collide", "themes": [
        {"id": "delivery", "label": "Shipping", "description": "The parcel arriving."},
        {"id": "shipping", "label": "Shipping cost", "description": "Postage fees."}]})  # fmt: skip
    path = tmp_path / "labels.csv"
    path.write_text("text,aspect,polarity\nPostage was dear. Mail jo@example.com,shipping,negative"
                    "\nIt came early,delivery,positive\n", encoding="utf-8")  # fmt: skip
    data = read_aspect_labels(path, cf)
    assert data["aspects"].tolist() == [[("shipping", "negative")], [("delivery", "positive")]]
    assert data["text"].iloc[0] == "Postage was dear. Mail [EMAIL]"
    path.write_text('text,aspect,polarity\n"two\nlines",delivery,negative\n\nlate,delivery,bad\n',
                    encoding="utf-8")  # fmt: skip
    with pytest.raises(InputError, match=r"polarity 'bad' \(rows 5\)"):
        read_aspect_labels(path, cf)
