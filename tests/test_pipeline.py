"""End to end through the library: every input row comes back, in order, with a status."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import cxnlp
from cxnlp.errors import InputError
from cxnlp.pipeline import EMPTY, NO_WORDS, OK, TOO_LONG
from cxnlp.results import CORPUS_TABLES

SENTIMENTS = {"negative", "neutral", "positive", "mixed"}


@pytest.fixture(scope="module")
def messy() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8"],
            "comment": [
                "Absolutely love this dress, the fabric is gorgeous and it fits perfectly.",
                "The parcel arrived two weeks late and customer service never answered my emails.",
                "",
                "   ",
                "😀😀😀",
                "The staff were lovely. The delivery was three weeks late and nobody answered.",
                None,
                "Where can I find the size guide?",
            ],
            "nps": ["10", "0", "7", "11", "abc", "5", None, "8"],
            "region": ["north", "south", "north", "south", "north", "south", "north", "east"],
        }
    )


@pytest.fixture(scope="module")
def results(analyzer, messy):
    return analyzer.analyze(messy, text_column="comment", score_columns={"nps": "nps"})


def test_one_row_per_input_row_in_order(results, messy):
    r = results.responses
    assert len(r) == len(messy)
    assert r["row_id"].tolist() == list(range(len(messy)))
    assert r["id"].tolist() == messy["id"].tolist()
    assert r["region"].tolist() == messy["region"].tolist()


def test_statuses_say_why(results):
    status = results.responses["status"].tolist()
    assert status[2] == EMPTY and status[3] == EMPTY and status[6] == EMPTY
    assert status[4] == NO_WORDS
    analysed = results.responses["sentiment"].notna()
    assert analysed.tolist() == [True, True, False, False, False, True, False, True]
    assert set(results.responses.loc[analysed, "status"]) <= {OK, "no theme"}


def test_sentiment_columns(results):
    r = results.responses[results.responses["sentiment"].notna()]
    assert set(r["sentiment"]) <= SENTIMENTS
    probs = r[["p_negative", "p_neutral", "p_positive"]].to_numpy()
    np.testing.assert_allclose(probs.sum(1), 1, atol=1e-5)
    np.testing.assert_allclose(r["sentiment_score"], r["p_positive"] - r["p_negative"])
    assert r.loc[0, "sentiment"] == "positive"
    assert r.loc[1, "sentiment"] == "negative"
    assert r.loc[5, "sentiment"] == "mixed"


def test_sentences_have_offsets_into_text(results):
    texts = results.responses.set_index("row_id")["text"]
    for s in results.sentences.itertuples():
        assert texts[s.row_id][s.start : s.end] == s.text
    assert results.sentences.loc[results.sentences.row_id == 5, "sentiment"].tolist() == [
        "positive",
        "negative",
    ]


def test_scores_parsed_and_invalid_ones_noted(results):
    r = results.responses
    assert r["nps"].tolist()[:3] == [10.0, 0.0, 7.0]
    assert np.isnan(r["nps"].iloc[3]) and np.isnan(r["nps"].iloc[4])
    assert "invalid nps value '11'" in r["notes"].iloc[3]
    assert "invalid nps value 'abc'" in r["notes"].iloc[4]
    assert results.metrics["rows"] == 8


def test_huge_text_gets_status_not_truncation(analyzer):
    df = pd.DataFrame({"comment": ["Great. " * 20_000, "Fine"]})
    res = analyzer.analyze(df, text_column="comment", **{"clean.max_chars": 50_000})
    assert res.responses["status"].tolist()[0] == TOO_LONG
    assert "139999 characters > clean.max_chars=50000" in res.responses["notes"].iloc[0]
    assert res.responses["sentiment"].notna().tolist() == [False, True]


def test_chunking_does_not_change_results(analyzer, messy):
    whole = analyzer.analyze(messy, text_column="comment", chunk_size=100).responses
    parts = analyzer.analyze(messy, text_column="comment", chunk_size=3).responses
    cols = ["row_id", "status", "sentiment", "p_negative", "p_neutral", "p_positive"]
    pd.testing.assert_frame_equal(whole[cols], parts[cols])


def test_a_chunk_with_nothing_to_analyse(analyzer, messy, tmp_path):
    """Rows 2-3 ("" and "   ") make a chunk of their own at chunk_size=2: in memory and
    through the chunk store (Parquet parts, as the CLI runs), every row comes back."""
    whole = analyzer.analyze(messy, text_column="comment").responses
    cols = ["row_id", "status", "sentiment", "p_negative", "p_neutral", "p_positive"]
    for store in (None, tmp_path / "parts"):
        parts = analyzer.analyze(messy, text_column="comment", chunk_size=2,
                                 checkpoint_dir=store).responses  # fmt: skip
        # read back from Parquet, labels are pandas strings (NaN for None): same values
        same = parts[cols].astype(object).fillna("-"), whole[cols].astype(object).fillna("-")
        pd.testing.assert_frame_equal(*same)
    blank = analyzer.analyze(pd.DataFrame({"comment": ["", None, "  "]}), text_column="comment")
    assert blank.responses["status"].tolist() == [EMPTY] * 3
    assert blank.sentences.empty and blank.mentions.empty


def test_any_dataframe_columns(analyzer):
    """Frames the file readers never make: integer, missing and repeated column names, and
    list / dict cells (nested JSON, Arrow list columns). Every row comes back."""
    from cxnlp.io import ReadWarning

    texts = ["The delivery was late.", "Great quality!", "Rude staff."]
    frames = {
        "0": pd.DataFrame([[t, s] for t, s in zip(texts, [2, 5, 1], strict=True)]),
        "Unnamed: 0": pd.DataFrame({None: texts, "rating": [2, 5, 1]}),
        "comment": pd.DataFrame(list(zip(texts, texts, strict=True)), columns=["comment"] * 2),
    }
    for text, frame in frames.items():
        with pytest.warns(ReadWarning, match="Column names made unique strings"):
            res = analyzer.analyze(frame, text_column=text)
        assert res.responses["status"].tolist() == [OK] * 3
    nested = pd.DataFrame({"comment": texts, "tags": [["a", "b"], [], ["c"]],
                           "meta": [{"x": 1}, {"x": 2}, None]})  # fmt: skip
    res = analyzer.analyze(nested, text_column="comment")
    assert res.responses["row_id"].tolist() == [0, 1, 2]
    assert res.responses["tags"].tolist()[0] == ["a", "b"]


def test_the_documented_join_back_by_position(analyzer, messy):
    """README and cxnlp.analyze's docstring: a sampled frame joins back by row_id, with no
    pandas deprecation warning, each input row beside its own result."""
    import warnings

    sampled = messy.sample(frac=1, random_state=3)
    res = analyzer.analyze(sampled, text_column="comment")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        joined = sampled.reset_index().merge(res.responses, left_index=True, right_on="row_id",
                                             suffixes=("", "_cx"))  # fmt: skip
    assert len(joined) == len(messy) and joined["index"].tolist() == sampled.index.tolist()
    assert (joined["id"] == joined["id_cx"]).all()


class _FitThemes:
    """A themes object of the caller's own: every sentence that says 'fit' is about fit."""

    def mentions(self, sentences, vectors, proba):
        from cxnlp.results import MENTION_COLUMNS

        s = sentences[sentences["text"].str.contains("fit", case=False)]
        return pd.DataFrame({"row_id": s["row_id"].to_numpy(), "theme": "fit", "parent": None,
                             "confidence": 1.0, "sentiment": s["sentiment"].to_numpy(),
                             "sentiment_score": 0.0, "start": s["start"].to_numpy(),
                             "end": s["end"].to_numpy(), "evidence": s["text"].to_numpy()},
                            columns=MENTION_COLUMNS)  # fmt: skip


def test_an_injected_themes_object_is_used_and_named(analyzer, messy):
    an = cxnlp.Analyzer(analyzer.config, encoder=analyzer.encoder, themes=_FitThemes())
    res = an.analyze(messy, text_column="comment")
    assert res.mentions["theme"].unique().tolist() == ["fit"]
    assert res.manifest["models"]["themes"] == f"{__name__}._FitThemes (injected)"


def test_missing_file_and_column_are_clear(analyzer, messy, tmp_path):
    with pytest.raises(InputError, match="not found"):
        cxnlp.analyze(tmp_path / "nope.csv")
    messy.to_csv(tmp_path / "a.csv", index=False)
    with pytest.raises(InputError, match=r"matching 1 file\(s\).*backends.dask.analyze"):
        cxnlp.analyze(str(tmp_path / "*.csv"))
    with pytest.raises(InputError, match="comments"):
        analyzer.analyze(messy, text_column="comments")
    with pytest.raises(InputError, match=r"a Series: pass series.to_frame\('comment'\)"):
        analyzer.analyze(messy["comment"])
    with pytest.raises(InputError, match="Cannot analyse a builtins.list"):
        cxnlp.analyze(["Great service"])


def test_config_as_a_dict(messy):
    """Notebook users pass sections as in the YAML; mistakes name the key as for a file."""
    from cxnlp.errors import ConfigError

    res = cxnlp.analyze(messy, config={"themes": {"enabled": False}, "topics": {"enabled": False}},
                        text_column="comment")  # fmt: skip
    assert "themes" not in res.responses and len(res.responses) == len(messy)
    with pytest.raises(ConfigError, match="the config dict: topics.enabeld: unknown key"):
        cxnlp.Analyzer({"topics": {"enabeld": False}})


def test_save_and_load_round_trip(results, tmp_path):
    written = results.save(tmp_path)
    assert {"responses.csv", "responses.parquet", "metrics.json", "report.html"} <= set(written)
    back = cxnlp.Results.load(tmp_path)
    assert len(back.responses) == len(results.responses)
    # list columns come back as lists, as the run made them (not numpy arrays)
    assert back.responses["themes"].tolist() == results.responses["themes"].tolist()
    assert all(isinstance(v, list) for v in back.responses["pii"])
    assert back.metrics == results.metrics or back.metrics["rows"] == results.metrics["rows"]
    # the tables are the run's, dtypes and missing values included; an empty corpus table
    # (no date: no trends) is not written, and loads with its columns
    assert results.trends.empty and "trends.parquet" not in written
    for name in ("responses", "sentences", "mentions", *CORPUS_TABLES):
        got, want = getattr(back, name), getattr(results, name)
        if want.empty:
            assert got.empty and list(got.columns) == list(want.columns), name
        else:
            pd.testing.assert_frame_equal(got, want, check_index_type=False, obj=name)
    assert results != back and results == results  # identity, not a DataFrame truth value
    with pytest.raises(InputError, match="No saved results in .*nowhere: it is not a folder"):
        cxnlp.Results.load(tmp_path / "nowhere")
    with pytest.raises(InputError, match="has no responses.parquet"):
        cxnlp.Results.load(tmp_path.parent)
