"""The Dask backend on a real two-process LocalCluster gives the local run's results."""

from __future__ import annotations

import math
import os
import pickle
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

dask = pytest.importorskip("dask")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

from cxnlp.backends import dask as cxdask  # noqa: E402
from cxnlp.config import apply_overrides, load_config  # noqa: E402
from cxnlp.errors import InputError  # noqa: E402
from cxnlp.io import read_feedback  # noqa: E402
from cxnlp.pipeline import EMPTY, NO_WORDS, Analyzer  # noqa: E402

#: Every run uses these settings, so each worker loads its models once for the module.
#: Chunks of 10 rows: 10-row partitions line up with the local run's chunks, 13-row or 23-row
#: partitions are cut into two or three chunks on their worker. No embedding cache: both
#: sides really encode (a cache filled by another test's batches would hide differences).
SETTINGS = {"chunk_size": 10, "cache": False}
#: Partitions that do not line up with the local run's chunks still give the same bytes: a
#: vector and a head's score do not depend on their batch (cxnlp.encode, cxnlp.linalg).
ATOL = 0.0

_COMMENTS = [
    "Absolutely love this dress, the fabric is gorgeous and it fits perfectly.",
    "The parcel arrived two weeks late and customer service never answered my emails.",
    "",
    "   ",
    "😀😀😀",
    "The staff were lovely. The delivery was three weeks late and nobody answered.",
    None,
    "Where can I find the size guide?",
    "Refund took a month. Email me at jane.doe@example.com if you need the order number.",
    "Great price, fast shipping, would buy again!",
    "The app keeps crashing when I try to pay.",
    "Checkout was quick and easy.",
    "Sizes run small, I had to return the jacket.",
    "Rude staff at the till and a long queue.",
    "It's ok I guess.",
    "!!!",
    "El pedido llegó dos semanas tarde y nadie contestó mis correos.",
]
_NPS = ["10", "0", "7", "11", "abc", "5", None, "8", "3", "9", "2", "8", "", "1", "6", "10"]


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    """40 responses with empty texts, symbol-only texts, PII, invalid scores, and Spanish."""
    n = 40
    return pd.DataFrame({
        "id": [f"r{i:03d}" for i in range(n)],
        "comment": [_COMMENTS[i % len(_COMMENTS)] for i in range(n)],
        "nps": [_NPS[(i * 3) % len(_NPS)] for i in range(n)],
        "region": [("north", "south", "east")[i % 3] for i in range(n)],
    })


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory):
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(
                                      cluster) as c:
        yield c


@pytest.fixture(scope="module")
def reference() -> Analyzer:
    """The local run, as ``cxnlp.analyze(data, **SETTINGS)`` builds it."""
    return Analyzer(apply_overrides(load_config(), **SETTINGS))


@pytest.fixture(scope="module")
def local(reference, frame):
    return reference.analyze(frame)


def _flat(d: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(d, dict):
        out: dict[str, Any] = {}
        for k, v in d.items():
            out.update(_flat(v, f"{prefix}{k}/"))
        return out
    if isinstance(d, (list, tuple)):
        out = {}
        for i, v in enumerate(d):
            out.update(_flat(v, f"{prefix}{i}/"))
        return out
    return {prefix: d}


def _same_metrics(a: dict[str, Any], b: dict[str, Any]) -> None:
    fa, fb = _flat(a), _flat(b)
    assert fa.keys() == fb.keys()
    for k, va in fa.items():
        vb = fb[k]
        if isinstance(va, float) and isinstance(vb, float):
            assert (math.isnan(va) and math.isnan(vb)) or abs(va - vb) <= ATOL, k
        else:
            assert va == vb, k


def assert_same(local, dist, *, exact: bool, same_input: bool = True) -> None:
    """Everything a run produces, except the manifest's creation time and input name."""
    for name in ("responses", "sentences", "mentions"):
        pd.testing.assert_frame_equal(getattr(dist, name), getattr(local, name), obj=name,
                                      check_exact=exact, rtol=0, atol=0 if exact else ATOL)
    r = dist.responses
    assert r["row_id"].tolist() == list(range(len(local.responses)))
    assert r["status"].tolist() == local.responses["status"].tolist()
    assert r["sentiment"].tolist() == local.responses["sentiment"].tolist()
    if exact:
        assert dist.metrics == local.metrics
    else:
        _same_metrics(local.metrics, dist.metrics)
    assert dist.columns == local.columns
    skip = {"created", "input"} | (set() if same_input else {"input_sha256"})
    assert {k: v for k, v in dist.manifest.items() if k not in skip} == {
        k: v for k, v in local.manifest.items() if k not in skip}


def test_dask_dataframe_matches_local(client, frame, local):
    with dask.config.set({"dataframe.convert-string": False}):  # keep pandas' own dtypes
        ddf = dd.from_pandas(frame, npartitions=4, sort=False)
    assert ddf.npartitions == 4
    dist = cxdask.analyze(ddf, client=client, **SETTINGS)
    # 10-row partitions are the local run's chunks: identical to the last bit; input_sha256
    # too, as the rows hash like the local frame's
    assert_same(local, dist, exact=True)
    # the fixture is messy on purpose: the statuses and invalid scores made it through
    status = dist.responses["status"]
    assert (status == EMPTY).sum() >= 6 and (status == NO_WORDS).any()
    assert dist.responses["notes"].str.contains("invalid nps value '11'").any()
    assert not dist.responses["text"].str.contains("jane.doe@example.com").any()
    assert len(dist.sentences) and len(dist.mentions)


def test_pandas_dataframe_matches_local(client, frame, local):
    dist = cxdask.analyze(frame, client=client, npartitions=3, **SETTINGS)  # 13/14/13 rows
    assert_same(local, dist, exact=True)


def test_glob_of_csv_files_matches_local(client, frame, reference, tmp_path: Path):
    frame.iloc[:23].to_csv(tmp_path / "export-1.csv", index=False)
    frame.iloc[23:].to_csv(tmp_path / "export-2.csv", index=False)
    both = pd.concat([read_feedback(tmp_path / f"export-{i}.csv") for i in (1, 2)],
                     ignore_index=True)
    local = reference.analyze(both)
    dist = cxdask.analyze(str(tmp_path / "export-*.csv"), client=client, **SETTINGS)
    assert len(dist.responses) == len(frame) == 40
    assert_same(local, dist, exact=True, same_input=False)  # partitions of 23 and 17 rows
    assert dist.responses["id"].tolist() == frame["id"].tolist()


def test_glob_errors_say_what_to_do(client, frame, tmp_path: Path):
    with pytest.raises(InputError, match="No file matches"):
        cxdask.analyze(str(tmp_path / "nothing-*.csv"), client=client)
    frame.to_csv(tmp_path / "a.csv", index=False)
    frame.rename(columns={"region": "area"}).to_csv(tmp_path / "b.csv", index=False)
    with pytest.raises(InputError, match="same columns"):
        cxdask.analyze(str(tmp_path / "*.csv"), client=client, **SETTINGS)
    for missing in (tmp_path / "gone.csv", str(tmp_path / "gone.csv")):  # a Path or a str
        with pytest.raises(InputError, match=f"File not found: {tmp_path / 'gone.csv'}. Check"):
            cxdask.analyze(missing, client=client)
    with pytest.raises(InputError, match=r"is a folder. Pass a glob .*\*\.csv"):
        cxdask.analyze(tmp_path, client=client)
    with pytest.raises(InputError, match=r"File\(s\) not found: .*gone.csv"):
        cxdask.analyze([tmp_path / "a.csv", tmp_path / "gone.csv"], client=client)


def test_a_glob_file_without_responses_is_skipped_and_named(client, frame, reference, tmp_path):
    """Daily exports: a day without answers is a header-only file. It is skipped with a
    warning that names it (nothing is lost: it has no rows), and the results are the others'."""
    from cxnlp.io import ReadWarning

    half = len(frame) // 2
    frame.iloc[:0].to_csv(tmp_path / "a-empty.csv", index=False)
    frame.iloc[:half].to_csv(tmp_path / "b.csv", index=False)
    frame.iloc[half:half].to_csv(tmp_path / "c-empty.csv", index=False)
    frame.iloc[half:].to_csv(tmp_path / "d.csv", index=False)
    with pytest.warns(ReadWarning, match="Skipped 2 file.s. with a header but no responses: "
                      "a-empty.csv, c-empty.csv"):  # fmt: skip
        dist = cxdask.analyze(str(tmp_path / "*.csv"), client=client, **SETTINGS)
    both = pd.concat([read_feedback(tmp_path / f) for f in ("b.csv", "d.csv")], ignore_index=True)
    assert len(dist.responses) == len(frame)
    assert_same(reference.analyze(both), dist, exact=True, same_input=False)
    with pytest.raises(InputError, match="Every file of .* has a header but no responses"):
        cxdask.analyze(str(tmp_path / "*-empty.csv"), client=client, **SETTINGS)


def test_what_cannot_run_is_refused_before_a_cluster_starts(monkeypatch, tmp_path: Path):
    """A glob that matches nothing, a missing file, an injected themes object (workers would
    build other themes): refused at once, without starting the local cluster asked for."""
    from cxnlp.errors import ConfigError
    from cxnlp.pipeline import Analyzer

    def no_cluster(*args, **kwargs):
        raise AssertionError("a cluster was started for input that cannot run")

    monkeypatch.setattr(cxdask.distributed, "LocalCluster", no_cluster)
    with pytest.raises(InputError, match="No file matches"):
        cxdask.analyze(str(tmp_path / "nothing-*.csv"), workers=2)
    with pytest.raises(InputError, match="File not found"):
        cxdask.analyze(tmp_path / "gone.csv", workers=2)
    with pytest.raises(ConfigError, match="injected themes object does not travel"):
        cxdask.analyze(pd.DataFrame({"comment": ["fine"]}), workers=2,
                       analyzer=Analyzer(themes=object()))  # fmt: skip


def test_settings_not_weights_travel(reference, local):
    assert "model_" in reference.encoder.__dict__  # loaded by the local run...
    assert len(pickle.dumps(reference)) < 50_000  # ...but a pickle carries settings only


def test_models_loaded_once_per_worker(client):
    """Runs after the others (file order): three runs, one model load per worker."""
    info = client.run(cxdask.worker_info)
    assert len(info) == 2
    busy = [w for w in info.values() if w["partitions"]]
    assert busy, info
    assert sum(w["rows"] for w in info.values()) >= 3 * 40
    for w in busy:
        assert w["loads"] == 1 and w["analyzers"] == 1 and w["encoders"] == 1, info
    assert len({w["pid"] for w in info.values()}) == 2  # two processes, not threads


def test_cli_runs_on_an_existing_cluster(client, frame, tmp_path: Path):
    from typer.testing import CliRunner

    from cxnlp.cli import app

    path = tmp_path / "export.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["analyze", str(path), "--out", str(out), "--no-themes",
                                   "--scheduler", client.scheduler.address])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "Analysed 40 rows on Dask" in res.output
    assert len(pd.read_csv(out / "responses.csv")) == len(frame)


def test_cpu_bfloat16_matches_local(client, frame):
    """Runs after the model-load count (file order): the dtype travels to one-thread workers
    and 13/14/13-row partitions give the local run's bits. (It also passed with plain
    bfloat16 autocast: these passes happened to round alike. test_clean_encode checks the
    blocked products.)"""
    settings = {**SETTINGS, "dtype": "bfloat16"}
    local = Analyzer(apply_overrides(load_config(), **settings)).analyze(frame)
    dist = cxdask.analyze(frame, client=client, npartitions=3, **settings)
    assert_same(local, dist, exact=True)
    assert dist.manifest["models"]["encoder"].endswith("+bfloat16-blocked")


class _Dies:
    """A sentiment head that ends its worker's process, as an out-of-memory kill would."""

    model_id_ = "dies"

    def predict_proba(self, X: Any, texts: Any = None) -> Any:
        os._exit(1)


def test_a_lost_worker_is_a_clear_error(frame):
    """A worker that dies loses the scattered input: the run stops with a CxnlpError saying
    what to do, not distributed's 'cancelled for reason: already forgotten'. Its own cluster,
    so the module's two workers are left alone."""
    from cxnlp.errors import CxnlpError

    dies = Analyzer(apply_overrides(load_config(), **SETTINGS), sentiment=_Dies())
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(
                                      cluster) as c, pytest.raises(
                                          CxnlpError, match="Dask worker was lost.*pass a glob"):
        cxdask.analyze(frame, client=c, analyzer=dies)


class _Fails:
    """A sentiment head that raises, as a bug in a caller's own head would."""

    model_id_ = "fails"

    def predict_proba(self, X: Any, texts: Any = None) -> Any:
        raise ValueError("this head fails on purpose")


def test_a_local_cluster_shows_worker_warnings_not_failure_dumps(frame, capfd):
    """On the local cluster cxnlp starts, a worker's memory warning reaches the terminal, and
    a failing task does not dump its traceback there: the caller gets the error itself."""
    import logging

    fails = Analyzer(apply_overrides(load_config(), **SETTINGS), sentiment=_Fails())
    with cxdask._cluster(None, 1) as c:
        c.run(lambda: logging.getLogger("distributed.worker.memory").warning(
            "Unmanaged memory use is high (a test's warning)"))  # fmt: skip
        with pytest.raises(ValueError, match="this head fails on purpose"):
            cxdask.analyze(frame, client=c, analyzer=fails)
    err = capfd.readouterr().err
    assert "Unmanaged memory use is high (a test's warning)" in err
    assert "Compute Failed" not in err and "this head fails on purpose" not in err


def test_files_that_change_or_go_during_a_run_are_input_errors(frame, reference, tmp_path):
    """A glob is read twice on the workers (rows counted, then analysed): a file that grew in
    between, or is gone when hashed, is an InputError naming what happened, not an
    IndexError from the drivers stage or a bare FileNotFoundError."""
    columns = reference.detect(frame)
    with pytest.raises(InputError, match="rows 0-4 were 5 when counted and 40 when read again"):
        cxdask._analyze_partition(frame, reference, "k", columns, 0, 5)
    with pytest.raises(InputError, match="gone.csv on a Dask worker.*stay in place"):
        cxdask._hash_file(str(tmp_path / "gone.csv"))
