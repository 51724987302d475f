"""Run the :class:`~cxnlp.pipeline.Analyzer` on a Dask cluster, with the local run's results.

The per-row stages (clean, encode, sentiment, themes) are pure functions of a chunk of rows
and the loaded models, so each partition runs :meth:`Analyzer.analyze_chunk` on a worker.
The corpus stages (metrics, manifest) run once, on the client, through
:meth:`Analyzer.assemble` over the partitions' results in input order, exactly as the local
run does. Only settings travel to the workers (``Analyzer.__getstate__``); each worker
process loads the models once and keeps them for every later partition and run.

Examples
--------
>>> from distributed import Client  # doctest: +SKIP
>>> from cxnlp.backends.dask import analyze  # doctest: +SKIP
>>> results = analyze("exports/2024-*.csv", client=Client("tcp://scheduler:8786"))  # doctest: +SKIP
>>> results = analyze(df, workers=2)  # a local cluster, started and closed here  # doctest: +SKIP
"""

from __future__ import annotations

import glob as globlib
import hashlib
import json
import logging
import math
import os
import pickle
import threading
import warnings
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from concurrent.futures import CancelledError
from contextlib import contextmanager
from itertools import accumulate, pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .. import io as cxio
from ..config import Config
from ..errors import ConfigError, CxnlpError, InputError, NoResponses
from ..pipeline import Analyzer, ChunkResult, concat_chunks, file_hash

try:
    import dask
    import dask.dataframe as dd
    import distributed
    from distributed.diagnostics.plugin import WorkerPlugin
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "The Dask backend needs dask[dataframe] and distributed. Install them: "
        "pip install 'dask[dataframe]' distributed (or pip install 'cxnlp[dask]')."
    ) from exc

if TYPE_CHECKING:
    from ..results import Results

__all__ = ["analyze", "run_cli", "worker_info"]

#: Rows read (from the first partitions or files) to detect the column mapping of a lazy
#: input. Inputs no larger than this are detected from every row, like the local run.
DETECT_SAMPLE_ROWS = 10_000

# Dask >= 2023.7 turns object columns into pyarrow strings by default; the local run keeps
# the reader's dtypes, so we switch that conversion off for every graph we build.
_NO_STRING_CONVERSION = {"dataframe.convert-string": False}


# --------------------------------------------------------------------------------------------
# worker side: one Analyzer (and one set of loaded models) per worker process and settings
# --------------------------------------------------------------------------------------------

_CACHE_SIZE = 2  # analyzers (settings) kept per worker process; the oldest is dropped
_cache: OrderedDict[str, Analyzer] = OrderedDict()
_lock = threading.Lock()
_stats: dict[str, Any] = {"loads": 0, "partitions": 0, "rows": 0, "model_ids": set()}


def _worker_analyzer(key: str, shipped: Analyzer) -> Analyzer:
    """The worker's Analyzer for ``key``, built and warmed once (thread-safe)."""
    with _lock:
        analyzer = _cache.get(key)
        if analyzer is None:
            analyzer = shipped
            # Load every model now, under the lock, so two threads of one worker never
            # load the same weights twice (cached_property has no lock of its own).
            _ = analyzer.encoder.model_, analyzer.sentiment, analyzer.themes
            _cache[key] = analyzer
            _stats["loads"] += 1
            while len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)
        else:
            _cache.move_to_end(key)
        return analyzer


def _analyze_partition(frame: pd.DataFrame, shipped: Analyzer, key: str,
                       columns: cxio.ColumnMap, start: int, stop: int) -> list[ChunkResult]:
    """Per-row stages of one partition: input rows ``start`` to ``stop`` (counted before).

    A partition is processed in chunks of at most ``run.chunk_size`` rows, which bounds the
    worker's memory as :meth:`Analyzer.pipe` does on one machine. Chunks are cut at the same
    input rows as the local run's (multiples of ``chunk_size``), so a partition that starts
    and ends on such a row sees the very batches the local run encodes.
    """
    if len(frame) != stop - start:  # read again for this pass: a file changed in between
        raise InputError(
            f"The input changed during the run: rows {start}-{stop - 1} were {stop - start} "
            f"when counted and {len(frame)} when read again (was a file of the glob still "
            "being written?). Run again once the files are complete."
        )
    analyzer = _worker_analyzer(key, shipped)
    size = analyzer.config.run.chunk_size
    cuts = [0, *range(size - start % size, len(frame), size), len(frame)]
    out = [analyzer.analyze_chunk(frame.iloc[a:b], columns, start + a)
           for a, b in pairwise(cuts) if b > a]
    with _lock:
        _stats["partitions"] += 1
        _stats["rows"] += len(frame)
        _stats["model_ids"].add(id(analyzer.encoder.model_))
    return out


def _hash_file(path: str) -> str:
    """A glob file's SHA-256, read on a worker; a file gone or unreadable is an InputError."""
    try:
        return file_hash(Path(path))
    except OSError as exc:
        raise InputError(
            f"Cannot read {path} on a Dask worker ({exc.strerror}). Every file of a glob must "
            "stay in place, at the same path on every worker, for the whole run."
        ) from None


def _read_file(path: str, io: dict[str, Any], expected: list[str] | None) -> pd.DataFrame:
    """Read one file of a glob with the local reader and check it has the first file's columns.

    A file with a header but no responses (a day without answers) is an empty partition: the
    client names it in a warning, and refuses a glob whose files are all empty.
    """
    try:
        frame = cxio.read_feedback(path, sheet=io["sheet"], encoding=io["encoding"],
                                   delimiter=io["delimiter"])
    except NoResponses as empty:
        frame = pd.DataFrame({c: pd.Series(dtype="str") for c in empty.columns})
    got = [str(c) for c in frame.columns]
    if expected is None:
        return frame
    if got != expected:
        raise InputError(
            f"{Path(path).name} has columns {got}, but the first file of the input has "
            f"{expected}. Every file of a glob must have the same columns in the same order: "
            "export them again with the same layout, or analyse them separately."
        )
    return frame


def _partition_stats(frame: pd.DataFrame, want_hash: bool) -> tuple[int, bytes]:
    """Row count and (optionally) the row hashes that make up the local run's input hash."""
    if not want_hash:
        return len(frame), b""
    return len(frame), pd.util.hash_pandas_object(frame, index=True).values.tobytes()


def worker_info() -> dict[str, Any]:
    """What this worker process has loaded and done (call it with ``client.run(worker_info)``).

    Returns
    -------
    dict
        ``pid``; ``loads`` (how many times models were loaded: once per settings);
        ``analyzers`` (settings cached now); ``partitions`` and ``rows`` processed;
        ``encoders`` (distinct loaded encoder objects that served partitions).
    """
    with _lock:
        return {"pid": os.getpid(), "loads": _stats["loads"], "analyzers": len(_cache),
                "partitions": _stats["partitions"], "rows": _stats["rows"],
                "encoders": len(_stats["model_ids"])}


# --------------------------------------------------------------------------------------------
# client side
# --------------------------------------------------------------------------------------------


def _settings_key(analyzer: Analyzer) -> str:
    """Identify the models a worker must load for ``analyzer`` (its settings, not weights)."""
    state = analyzer.__getstate__()
    rest = {k: v for k, v in state.items() if k != "config"}
    h = hashlib.sha256(analyzer.config.model_dump_json().encode())
    h.update(pickle.dumps(rest))
    return h.hexdigest()[:16]


def _is_glob(data: Any) -> bool:
    return isinstance(data, str) and any(ch in data for ch in "*?[")


def _expand(data: str | Sequence[str | os.PathLike[str]]) -> list[str]:
    if isinstance(data, str):
        files = sorted(globlib.glob(os.path.expanduser(data), recursive=True))
        if not files:
            raise InputError(f"No file matches {data!r} (relative to {Path.cwd()}). "
                             "Check the pattern, e.g. 'exports/*.csv'.")
    else:
        files = [str(p) for p in data]
        if not files:
            raise InputError("The list of input files is empty; pass at least one file.")
    missing = [f for f in files if not Path(f).is_file()]
    if missing:
        raise InputError(f"File(s) not found: {', '.join(missing[:5])}. Check the paths.")
    # Workers may run in another folder: give them absolute paths.
    return [str(Path(f).resolve()) for f in files]


def _sample(parts: Iterator[pd.DataFrame], limit: int) -> pd.DataFrame:
    """Concatenate leading partitions until ``limit`` rows (attrs of the first one with rows
    kept: an empty file has no layout to tell)."""
    frames: list[pd.DataFrame] = []
    rows = 0
    for part in parts:
        frames.append(part)
        rows += len(part)
        if rows >= limit:
            break
    sample = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    sample.attrs = dict(next((f for f in frames if len(f)), frames[0]).attrs)
    return sample


def _split(client: distributed.Client, rows: int, chunk_size: int,
           npartitions: int | None) -> list[int]:
    """Partition boundaries of an in-memory frame.

    By default one partition is one chunk of the local run (``run.chunk_size`` rows from a
    multiple of it), as long as that gives every worker thread a partition; smaller inputs
    are split evenly over the threads instead.
    """
    if rows == 0:
        return [0, 0]
    if npartitions is None:
        threads = sum(client.nthreads().values()) or 1
        if math.ceil(rows / chunk_size) >= threads:
            return [*range(0, rows, chunk_size), rows]
        npartitions = threads
    n = max(1, min(npartitions, rows))
    return [round(i * rows / n) for i in range(n + 1)]


@contextmanager
def _cluster(client: distributed.Client | None, workers: int | None,
             scheduler: str | None = None) -> Iterator[distributed.Client]:
    """The client to run on: the one given, a new one for ``scheduler``, the default one, or
    a local cluster of ``workers`` processes that is closed afterwards."""
    if client is not None:
        yield client
        return
    if scheduler:
        try:
            own = distributed.Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise ConfigError(
                f"Cannot reach the Dask scheduler at {scheduler} ({exc}). Start one with "
                "'dask scheduler' (and 'dask worker <address>' on each machine), check the "
                "address and firewall, or use --dask-workers N for a local cluster."
            ) from None
        try:
            yield own
        finally:
            own.close()
        return
    if workers is None:
        try:
            yield distributed.default_client()
            return
        except ValueError:
            raise ConfigError(
                "No Dask cluster to run on: pass client=Client('tcp://host:8786'), create a "
                "Client first (it becomes the default), or pass workers=N to start a local "
                "cluster of N processes."
            ) from None
    if workers < 1:
        raise ConfigError(f"workers must be at least 1 (got {workers}).")
    # One thread per process: torch gets one core each (Dask sets OMP_NUM_THREADS=1 in
    # worker processes), and tokenisation/pandas never contend for one GIL. Warnings (memory
    # use) are shown; the workers' "Compute Failed" dumps are not: the error reaches the
    # caller (the CLI: one line).
    cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=logging.WARNING)
    try:
        own = distributed.Client(cluster)
        own.register_plugin(QuietFailures(), name="cxnlp-quiet-failures")
        try:
            yield own
        finally:
            own.close()
    finally:
        cluster.close()


class _NoComputeFailed(logging.Filter):
    """Drops the worker's "Compute Failed" record: a task's traceback dumped to the terminal
    beside the one-line error the caller gets for it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Compute Failed")


class QuietFailures(WorkerPlugin):
    """On the workers of a local cluster cxnlp starts: tasks' failures are the caller's to
    report, while the workers' other warnings (memory use, restarts) still show."""

    def setup(self, worker: distributed.Worker) -> None:
        logger = logging.getLogger("distributed.worker")
        if not any(isinstance(f, _NoComputeFailed) for f in logger.filters):
            logger.addFilter(_NoComputeFailed())


def _check_input(data: Any, analyzer: Analyzer) -> None:
    """Refuse what cannot run before a cluster is started: a missing file or folder, a glob
    that matches nothing, an injected themes object (it does not travel to the workers)."""
    if isinstance(data, (str, Path)) and not _is_glob(data) and not Path(data).is_file():
        if Path(data).is_dir():
            raise InputError(f"{data} is a folder. Pass a glob of the files inside it, "
                             f"e.g. '{Path(data) / '*.csv'}'.")
        raise cxio.file_not_found(Path(data))
    if _is_glob(data) or isinstance(data, (list, tuple)):
        _expand(data)
    if analyzer._themes not in (None, False) and analyzer.config.themes.enabled:
        raise ConfigError(
            "An injected themes object does not travel to Dask workers: they build themes from "
            "config.themes, so the results would not be yours. Save the classifier "
            "(CodeframeClassifier.save) and set themes.model to its folder, or pass a "
            "codeframe (themes.codeframe), or run it locally with Analyzer.analyze."
        )


def _as_partitions(data: Any, analyzer: Analyzer, client: distributed.Client,
                   npartitions: int | None) -> tuple[list[Any], list[int], cxio.ColumnMap, str]:
    """Split the input into partitions: (futures or delayed frames, row bounds, columns,
    digest); partition i holds input rows ``bounds[i]`` to ``bounds[i + 1] - 1``."""
    c = analyzer.config
    if isinstance(data, (pd.DataFrame, Path)) or (isinstance(data, str) and not _is_glob(data)):
        # In memory (or one file, read on the client like the local run): split by position
        # and scatter, so the rows travel to the workers once and not through the scheduler.
        frame, columns, digest = analyzer.read(data)
        bounds = _split(client, len(frame), c.run.chunk_size, npartitions)
        pieces = [frame.iloc[a:b] for a, b in pairwise(bounds)]
        return client.scatter(pieces), bounds, columns, digest

    if isinstance(data, dd.DataFrame):
        ddf = data
        sample = _sample((client.compute(ddf.partitions[i]).result()
                          for i in range(ddf.npartitions)),
                         DETECT_SAMPLE_ROWS)
        digest_from_rows = True
        file_digest = ""
    elif isinstance(data, (str, list, tuple)):
        files = _expand(data)
        io = c.io.model_dump()
        first = _read_file(files[0], io, None)
        expected = [str(col) for col in first.columns]
        rest = (_read_file(f, io, expected) for f in files[1:])
        sample = _sample(_chain(first, rest), DETECT_SAMPLE_ROWS)
        if not len(sample):
            raise InputError(f"Every file of {data!r} has a header but no responses. Check "
                             "that the exports include the responses (filters, date range).")
        sample.attrs["source"] = str(data) if isinstance(data, str) else files[0]
        ddf = dd.from_map(_read_file, files, io=io, expected=expected, meta=first.iloc[:0],
                          label="cxnlp-read", enforce_metadata=False)
        hashes = client.gather(client.map(_hash_file, files, pure=False))
        h = hashlib.sha256()
        for f, fh in zip(files, hashes, strict=True):
            h.update(f"{Path(f).name}\0{fh}\n".encode())
        file_digest = h.hexdigest()
        digest_from_rows = False
    else:
        raise InputError(
            f"Cannot analyse data of type {type(data).__name__}: pass a dask or pandas "
            "DataFrame, a file path, a glob such as 'exports/*.csv', or a list of files."
        )
    columns = analyzer.detect(sample)
    if npartitions and npartitions != ddf.npartitions:
        ddf = ddf.repartition(npartitions=npartitions)
    parts = ddf.to_delayed()
    stats = client.gather(client.compute(
        [dask.delayed(_partition_stats)(p, digest_from_rows) for p in parts]))
    lengths = [n for n, _ in stats]
    if not digest_from_rows and len(lengths) == len(files):  # a glob, one partition per file
        empty = [Path(f).name for f, n in zip(files, lengths, strict=True) if not n]
        if empty:
            warnings.warn(f"Skipped {len(empty)} file(s) with a header but no responses: "
                          f"{', '.join(empty[:5])}{', ...' if len(empty) > 5 else ''}.",
                          cxio.ReadWarning, 2)  # fmt: skip
    bounds = [0, *accumulate(lengths)]
    if digest_from_rows:  # the same sha256 as the local run over the computed frame
        h = hashlib.sha256()
        for _, b in stats:
            h.update(b)
        digest = h.hexdigest()
    else:
        digest = file_digest
    return parts, bounds, columns, digest


def _chain(first: pd.DataFrame, rest: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    yield first
    yield from rest


def analyze(
    data: Any,
    config: Config | dict[str, Any] | str | Path | None = None,
    *,
    client: distributed.Client | None = None,
    workers: int | None = None,
    npartitions: int | None = None,
    analyzer: Analyzer | None = None,
    **overrides: Any,
) -> Results:
    """Analyse feedback on a Dask cluster; the results equal :func:`cxnlp.analyze`'s.

    Parameters
    ----------
    data : dask DataFrame, pandas DataFrame, path, glob or list of paths
        The responses. A path is read on the client exactly as the local run reads it; a glob
        (``"exports/*.csv"``, CSV/TSV, XLSX, Parquet or JSON Lines) or a list of files is read
        on the workers, one partition per file, with the same reader (so every file must be
        reachable from every worker at the same path, and have the same columns). Rows are
        numbered in file order (sorted names for a glob), then row order.
    config : Config, dict or path, optional
        Pipeline configuration (default: ``configs/default.yaml``).
    client : distributed.Client, optional
        Cluster to run on. Default: the current default client, else a local cluster of
        ``workers`` processes started and closed by this call.
    workers : int, optional
        Start a ``LocalCluster`` of this many one-thread worker processes (closed at the end)
        when no client is given, even when a default client exists.
    npartitions : int, optional
        Partitions to split the rows into. Default for in-memory data and single files:
        enough for every worker thread and at most ``run.chunk_size`` rows each; for a dask
        DataFrame or a glob: its own partitions.
    analyzer : Analyzer, optional
        Use this analyzer's settings and injected parts (``config`` is then ignored). Its
        weights are not shipped: each worker loads the models from the settings, except an
        injected sentiment head, which travels as it pickles. An injected themes object does
        not travel, so it is refused (save it and set ``themes.model``).
    **overrides
        Settings that win over the config, as for :func:`cxnlp.analyze`.

    Returns
    -------
    Results
        One row per input row, in input order, with the ``row_id``\\ s of the local run; the
        corpus stages (metrics, manifest) run once on the client.

    Raises
    ------
    InputError
        Missing files, an empty glob, files whose columns differ, or an unsupported input.
    ConfigError
        No cluster to run on, a scheduler that cannot be reached, or an injected themes
        object.
    """
    an = analyzer if analyzer is not None else Analyzer(config)
    if overrides:
        an = an.with_overrides(**overrides)
    key = _settings_key(an)
    _check_input(data, an)
    with dask.config.set(_NO_STRING_CONVERSION), _cluster(client, workers) as cl:
        parts, bounds, columns, digest = _as_partitions(data, an, cl, npartitions)
        rows = list(pairwise(bounds))  # (start, stop) of each partition
        scattered = bool(parts) and isinstance(parts[0], distributed.Future)  # sent once
        if scattered:
            futures = [cl.submit(_analyze_partition, p, an, key, columns, a, b, pure=False)
                       for p, (a, b) in zip(parts, rows, strict=True)]
        else:
            futures = cl.compute([dask.delayed(_analyze_partition)(p, an, key, columns, a, b)
                                  for p, (a, b) in zip(parts, rows, strict=True)])
        try:
            per_partition = _gather(cl, futures, an.config.run.progress)
        except (CancelledError, distributed.scheduler.KilledWorker) as exc:
            cl.cancel(futures)
            raise CxnlpError(
                f"A Dask worker was lost during the run ({type(exc).__name__}: {exc}), often "
                "killed for memory; lower run.chunk_size or give the workers more memory. "
                + ("The input was sent from this process once and cannot be recomputed: run "
                   "again, or pass a glob of files, which the workers read and Dask re-reads "
                   "after such a loss." if scattered else "Run again.")
            ) from None
        except BaseException:
            cl.cancel(futures)
            raise
    tables = concat_chunks(chunk for part in per_partition for chunk in part)
    return an.assemble(tables, columns, digest, source=_source(data))


def _gather(client: distributed.Client, futures: list[Any],
            progress: bool) -> list[list[ChunkResult]]:
    """Results in partition order (with a rows progress bar when asked)."""
    if progress:
        from tqdm.auto import tqdm

        with tqdm(unit="rows", desc="analysing (dask)") as bar:
            for fut in distributed.as_completed(futures):
                bar.update(sum(len(ch.responses) for ch in fut.result()))
    return client.gather(futures)


def _source(data: Any) -> Any:
    if isinstance(data, (pd.DataFrame, str, Path)):
        return data
    if isinstance(data, dd.DataFrame):
        return "<dask DataFrame>"
    return json.dumps([str(p) for p in data])


def run_cli(input: str | Path, config: Config | str | Path | None = None,
            scheduler: str | None = None, workers: int | None = None,
            **overrides: Any) -> Results:
    """What ``cxnlp analyze --scheduler ADDRESS`` / ``--dask-workers N`` runs.

    Parameters
    ----------
    input : path or glob
        Export file, or a glob of files (quote it in the shell: ``'exports/*.csv'``).
    config : Config or path, optional
        Pipeline configuration, with CLI options already applied.
    scheduler : str, optional
        Address of a running scheduler, e.g. ``tcp://10.0.0.5:8786``.
    workers : int, optional
        Without ``scheduler``: start a local cluster of this many worker processes.
    **overrides
        Further settings, as for :func:`analyze`.

    Returns
    -------
    Results
    """
    if scheduler is None and workers is None:
        raise ConfigError("Pass --scheduler tcp://HOST:8786 or --dask-workers N to run on Dask.")
    source = str(input)
    with _cluster(None, None if scheduler else workers, scheduler) as client:
        return analyze(source, config, client=client, **overrides)
