"""Analyzer: composes the steps, chunk by chunk, so every input row comes out with a status.

Per-row stages (clean → encode → sentiment → themes) are pure functions of a chunk and the
loaded models, so the same :meth:`Analyzer.analyze_chunk` runs on one machine or inside a Dask
partition. Corpus stages (metrics, report) run once over the concatenated results.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from functools import cached_property
from importlib.metadata import version
from itertools import chain
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from . import io as cxio
from .checkpoint import ChunkStore
from .clean import normalize
from .config import Config, apply_overrides, config_from_dict, load_config
from .encode import Encoder, embed_documents
from .errors import InputError
from .io.layouts import _dedupe
from .pii import DEFAULT_ID_PATTERNS, PIIRedactor, personal_column_kind, redact_columns
from .results import (
    CORPUS_TABLES,
    MENTION_COLUMNS,
    NO_THEME,
    OK,
    SENTENCE_COLUMNS,
    Results,
    as_stored,
)

#: Row statuses of rows not analysed, each saying why (``results.ANALYSED``: the others).
EMPTY, NO_WORDS, TOO_LONG = "empty text", "no words (only symbols or emoji)", "text too long"
OTHER_LANGUAGE = "other language"

_WORD = re.compile(r"[^\W_]", re.UNICODE)
PROBA = ["p_negative", "p_neutral", "p_positive"]
#: Columns the run writes into ``responses``: an input column of that name becomes input_<name>.
OUTPUT_COLUMNS = {"row_id", "status", "text", "language", "pii", "notes", "sentiment",
                  "sentiment_score", *PROBA, "themes", "topic"}  # fmt: skip


class Source(NamedTuple):
    """An opened input: its pieces in order, the column mapping, and what identifies it."""

    frames: Iterator[pd.DataFrame]
    columns: cxio.ColumnMap
    digest: str
    total: int | None  # rows, when known before reading everything
    attrs: dict[str, Any]


def rechunk(frames: pd.DataFrame | Iterable[pd.DataFrame], size: int) -> Iterator[pd.DataFrame]:
    """Cut a table, or consecutive pieces of one, into chunks of exactly ``size`` rows."""
    if size < 1:
        raise ValueError(f"chunk size must be at least 1 row, got {size}")
    if isinstance(frames, pd.DataFrame):
        frames = [frames]
    buf: list[pd.DataFrame] = []
    have = 0
    for frame in frames:
        at = 0
        while at < len(frame):
            part = frame.iloc[at : at + size - have]
            buf.append(part)
            have += len(part)
            at += len(part)
            if have == size:
                yield buf[0] if len(buf) == 1 else pd.concat(buf, ignore_index=True)
                buf, have = [], 0
    if buf:
        yield buf[0] if len(buf) == 1 else pd.concat(buf, ignore_index=True)


def _missing(value: Any) -> bool:
    """None, NaN or pd.NA: an empty cell, read as an empty text."""
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


class ChunkResult(NamedTuple):
    """What the per-row stages produce for one chunk of rows."""

    responses: pd.DataFrame
    sentences: pd.DataFrame
    mentions: pd.DataFrame


def concat_chunks(chunks: Iterable[ChunkResult]) -> dict[str, pd.DataFrame]:
    """Each table of the chunks concatenated in order, the chunks freed table by table."""
    parts: dict[str, list[pd.DataFrame]] = {t: [] for t in ChunkResult._fields}
    for chunk in chunks:
        for t in parts:
            frame = getattr(chunk, t)
            if len(frame):
                parts[t].append(frame)
    out = {}
    for t in ChunkResult._fields:
        frames = parts.pop(t)
        out[t] = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return out


def input_text_columns(columns: cxio.ColumnMap) -> list[str]:
    """The input's text columns as ``responses`` names them, when no other role claims them.

    :meth:`Analyzer.clean_chunk` keeps each one cleaned beside ``text`` (their join): the
    corpus stages read ``text`` only, so :meth:`Analyzer.run` leaves these on disk meanwhile.
    """
    claimed = {*columns.scores, *columns.segments, columns.date, columns.id, "text"}
    return [f"input_{c}" if c in OUTPUT_COLUMNS else c for c in columns.text if c not in claimed]


def _put_back(frame: pd.DataFrame, columns: pd.DataFrame, order: list[str]) -> None:
    """Insert ``columns`` into ``frame`` in place, where they stand in ``order``."""
    for name in columns.columns:
        at = sum(c in frame.columns for c in order[: order.index(name)])
        frame.insert(at, name, columns[name].array)  # Arrow strings stay Arrow strings


@contextmanager
def _returning_arrow_memory() -> Iterator[None]:
    """Arrow allocations (pandas' strings) from the system allocator while the block runs.

    pyarrow's default pool (mimalloc) keeps freed pages for reuse, so each transient copy
    of a million-row string column would stay in the process's memory; freed system
    allocations of that size go back to the OS. Buffers remember their pool, so switching
    back afterwards is safe.
    """
    import pyarrow as pa

    before = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(before)


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def frame_hash(df: pd.DataFrame) -> str:
    try:
        rows = pd.util.hash_pandas_object(df, index=True)
    except TypeError:  # list or dict cells (nested JSON, Arrow list columns): hash their text
        text = df.astype({c: str for c in df.columns if df[c].dtype == object})
        rows = pd.util.hash_pandas_object(text, index=True)
    return hashlib.sha256(rows.values.tobytes()).hexdigest()


def named_columns(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with unique string column names, as the file readers give them.

    ``pd.DataFrame(rows)`` has integer names, and a frame may repeat a name or have none;
    such names become ``"0"``, ``"comment.1"`` or ``"Unnamed: 2"`` (with a warning), so
    ``text_column="0"`` and every later stage can address each column.
    """
    names = list(df.columns)
    if all(isinstance(n, str) and n for n in names) and len(set(names)) == len(names):
        return df
    new = _dedupe(["" if pd.isna(n) else str(n) for n in names])
    changed = ", ".join(f"{old!r} -> {n!r}" for old, n in zip(names, new, strict=True)
                        if old != n)  # fmt: skip
    warnings.warn(f"Column names made unique strings: {changed}.", cxio.ReadWarning, stacklevel=3)
    return df.set_axis(new, axis=1)


class Analyzer:
    """The pipeline as one object whose parts can be injected, BERTopic-style.

    Parameters
    ----------
    config : Config, dict, path or None
        Pipeline settings (default: ``configs/default.yaml``); a dict holds sections as the
        YAML does (``{"topics": {"enabled": False}}``), the rest keeps its defaults.
    encoder : Encoder, optional
        Shared sentence encoder; built from ``config.encoder`` when omitted.
    sentiment : estimator, optional
        Head with ``predict_proba(X) -> (n, 3)`` over negative/neutral/positive; a head with
        ``text_cues`` set also gets ``texts=`` (see :func:`cxnlp.sentiment.head_proba`).
    themes : object, optional
        Theme classifier with ``mentions(sentences, vectors, proba)``; built from
        ``config.themes`` when omitted, ``False`` to switch themes off.

    Examples
    --------
    >>> results = Analyzer().analyze("examples/clothing_reviews.csv")  # doctest: +SKIP
    >>> results.responses[["text", "sentiment", "themes"]].head()  # doctest: +SKIP
    """

    def __init__(
        self,
        config: Config | dict[str, Any] | str | Path | None = None,
        encoder: Encoder | None = None,
        sentiment: Any = None,
        themes: Any = None,
    ) -> None:
        if isinstance(config, dict):  # sections as in the YAML, e.g. {"topics": {...}}
            config = config_from_dict(config, "the config dict")
        self.config = config if isinstance(config, Config) else load_config(config)
        self._encoder = encoder
        self._sentiment = sentiment
        self._themes = themes

    # --- parts, loaded lazily and once -------------------------------------------------
    @cached_property
    def encoder(self) -> Encoder:
        if self._encoder is not None:
            return self._encoder
        c = self.config.encoder
        return Encoder(
            c.model,
            device=c.device,
            batch_size=c.batch_size,
            cache=c.cache,
            cache_dir=c.cache_dir,
            show_progress=False,
            backend=c.backend,
            dtype=c.dtype,
            tokenize_workers=c.tokenize_workers,
        )

    @cached_property
    def sentiment(self) -> Any:
        if self._sentiment is not None:
            return self._sentiment
        from .sentiment import load_sentiment

        return load_sentiment(self.config.sentiment.model)

    @cached_property
    def themes(self) -> Any:
        if self._themes is False or not self.config.themes.enabled:
            return None
        if self._themes is not None:
            return self._themes
        from .themes import Codeframe, CodeframeClassifier

        t = self.config.themes
        if t.model:
            clf = CodeframeClassifier.load(t.model, encoder=self.encoder)
        else:
            clf = CodeframeClassifier(Codeframe.load(t.codeframe), self.encoder)
        # a fine-tuned (sentence, aspect) model gives each mention its own sentiment
        return clf.use_aspect_model(t.aspect_model) if t.aspect_model else clf

    @property
    def codeframe(self) -> Any:
        """The codeframe of the theme classifier (or of ``config.themes``), for the link stage."""
        cf = getattr(self.themes, "codeframe_", None) if self.themes is not None else None
        if cf is None:
            from .themes import Codeframe

            try:
                cf = Codeframe.load(self.config.themes.codeframe)
            except Exception:  # noqa: BLE001 - no codeframe: touchpoints/reasons use defaults
                cf = None
        return cf

    def __getstate__(self) -> dict[str, Any]:
        """Ship settings, not weights, to Dask workers: each worker loads models once."""
        return {
            "config": self.config,
            "_encoder": self._encoder,
            "_sentiment": self._sentiment,
            "_themes": False if self._themes is False else None,
        }

    # --- reading ------------------------------------------------------------------------
    def open(self, data: str | Path | pd.DataFrame) -> Source:
        """Start reading ``data``: the first piece decides the column mapping.

        Exports larger than ``io.stream_above_mb`` come in pieces
        (:func:`cxnlp.io.iter_feedback`), so the input is never in memory whole.
        """
        c = self.config.io
        if not isinstance(data, (pd.DataFrame, str, os.PathLike)):
            hint = " (a Series: pass series.to_frame('comment'))" if isinstance(
                data, pd.Series) else ""  # fmt: skip
            kind = f"{type(data).__module__.split('.')[0]}.{type(data).__name__}"
            raise InputError(
                f"Cannot analyse a {kind}: give a file path or a pandas DataFrame with one "
                f"response per row{hint} (a polars frame: .to_pandas(); a dask one: "
                "cxnlp.backends.dask.analyze)."
            )
        if isinstance(data, pd.DataFrame):
            data = named_columns(data)
            return Source(iter([data]), self.detect(data), frame_hash(data), len(data), data.attrs)
        path = Path(data)
        piece = int(c.stream_above_mb * 2**20)
        pieces = cxio.iter_feedback(
            path, piece_bytes=piece, sheet=c.sheet, encoding=c.encoding, delimiter=c.delimiter
        )
        first = next(pieces)
        total = len(first) if path.stat().st_size <= piece else None
        return Source(
            chain([first], pieces), self.detect(first), file_hash(path), total, dict(first.attrs)
        )

    def read(self, data: str | Path | pd.DataFrame) -> tuple[pd.DataFrame, cxio.ColumnMap, str]:
        """Read ``data`` whole and decide the column mapping: (frame, columns, input hash)."""
        src = self.open(data)
        frames = list(src.frames)
        frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        frame.attrs = src.attrs
        return frame, src.columns, src.digest

    def detect(self, frame: pd.DataFrame) -> cxio.ColumnMap:
        """The column mapping: configured columns win, the rest is detected."""
        c = self.config.io
        text = [c.text_column] if isinstance(c.text_column, str) else c.text_column
        return cxio.detect_columns(
            frame,
            text=text,
            scores=c.score_columns,
            date=c.date_column,
            segments=c.segment_columns,
            id=c.id_column,
        )

    def with_overrides(self, **overrides: Any) -> Analyzer:
        """A copy with settings overridden, sharing each part (loaded or injected) whose
        settings are the same; a part whose section changed is built from the new settings."""
        config = apply_overrides(self.config, **overrides)
        same = {
            s: getattr(config, s) == getattr(self.config, s)
            for s in ("encoder", "sentiment", "themes")
        }
        same["themes"] = same["themes"] and same["encoder"]
        new = Analyzer(config, *(getattr(self, f"_{p}") if same[p] else None for p in same))
        for part, unchanged in same.items():
            if unchanged and part in self.__dict__:
                new.__dict__[part] = self.__dict__[part]
        return new

    # --- per-row stages -----------------------------------------------------------------
    @cached_property
    def redactor(self) -> PIIRedactor | None:
        c = self.config.clean
        if not c.redact_pii:
            return None
        return PIIRedactor(
            regions=c.phone_regions,
            kinds=set(c.pii_kinds),
            id_patterns=c.id_patterns or DEFAULT_ID_PATTERNS,
        )

    def _clean_text(self, text: str, found: list[str]) -> str:
        """Normalise and redact one cell; the kinds of PII removed are appended to ``found``."""
        text = normalize(text) if self.config.clean.normalize else text.strip()
        if self.redactor is not None:
            text, counts = self.redactor(text)
            found.extend(sorted(counts.elements()))
        return text

    def _passthrough(
        self, frame: pd.DataFrame, columns: cxio.ColumnMap
    ) -> tuple[list[str], dict[str, str]]:
        """Passed-through columns to redact, and those masked whole (column -> kind of PII)."""
        c = self.config.clean
        # segments too: a category holding an address is merged into [POSTCODE], not kept
        claimed = {*columns.text, *columns.scores, columns.date, columns.id}
        rest = [col for col in frame.columns if col not in claimed]
        for key in ("redact_columns", "personal_columns"):
            missing = [col for col in getattr(c, key) or [] if col not in frame.columns]
            if missing:
                raise InputError(
                    f"clean.{key} names {missing}, not columns of the export (columns: "
                    f"{', '.join(map(str, frame.columns[:12]))}). Fix or remove them in the config."
                )
        if c.personal_columns is None:
            personal = {col: kind for col in rest if (kind := personal_column_kind(col))}
        else:
            personal = {col: personal_column_kind(col) or "personal" for col in c.personal_columns}
        redact = rest if c.redact_columns is None else list(c.redact_columns)
        return redact, personal

    def clean_chunk(self, frame: pd.DataFrame, columns: cxio.ColumnMap, start: int) -> pd.DataFrame:
        """``row_id``, ``status``, the input columns, ``text``, ``pii``, ``notes``.

        Scores are parsed to numbers; text columns are normalised and redacted, and so are the
        other passed-through columns (``clean.redact_columns`` / ``clean.personal_columns``),
        so no output carries the PII that the text column lost. An input column named like
        an output column (``status``, ``text``...) is kept as ``input_<name>``.
        """
        pii: list[list[str]] = [[] for _ in range(len(frame))]
        new: dict[str, Any] = {}
        for col in columns.text:
            cells = ["" if _missing(v) else str(v) for v in frame[col].tolist()]
            new[col] = [self._clean_text(t, found) for t, found in zip(cells, pii, strict=True)]
        texts = ["\n".join(p for p in row if p) for row in zip(*new.values(), strict=True)]
        if self.redactor is not None:
            redact, personal = self._passthrough(frame, columns)
            new.update(redact_columns(frame, redact, personal, self.redactor, pii))
        max_chars = self.config.clean.max_chars
        status = [
            EMPTY
            if not t.strip()
            else NO_WORDS
            if not _WORD.search(t)
            else TOO_LONG
            if len(t) > max_chars
            else OK
            for t in texts
        ]
        notes = [[] for _ in texts]
        for i, s in enumerate(status):
            if s == TOO_LONG:
                notes[i].append(f"{len(texts[i])} characters > clean.max_chars={max_chars}")
        language = self._languages(texts, status, notes)
        for col, kind in columns.scores.items():
            values, invalid = cxio.parse_scores(frame[col], kind)
            for i in np.flatnonzero(np.asarray(invalid)):
                notes[i].append(f"invalid {kind} value {str(frame[col].iloc[i])!r} in '{col}'")
            new[col] = np.asarray(values, dtype=float)
        body = frame.reset_index(drop=True)
        for col, cells in new.items():
            body[col] = cells  # the passed-through columns carry no PII either
        if "text" in columns.text:  # the output's text column holds it (cleaned, joined)
            body = body.drop(columns=["text"])
        if clash := OUTPUT_COLUMNS.intersection(body.columns):
            body = body.rename(columns={c: f"input_{c}" for c in clash})
        head = pd.DataFrame({"row_id": np.arange(start, start + len(frame)), "status": status})
        notes_text = ["; ".join(n) for n in notes]
        tail = pd.DataFrame({"text": texts, "language": language, "pii": pii, "notes": notes_text})
        return pd.concat([head, body, tail], axis=1)

    def _languages(self, texts: list[str], status: list[str], notes: list[list[str]]) -> list:
        """Each analysable text's language; one the models do not read turns the row's status
        to ``other language``, with a note that says which (``clean.languages``)."""
        from .language import detect_languages, language_name

        accepted = self.config.clean.languages
        found: list[str | None] = [None] * len(texts)
        if accepted is None:
            return found
        todo = [i for i, s in enumerate(status) if s == OK]
        read = ", ".join(language_name(c) for c in accepted)
        for i, code in zip(todo, detect_languages([texts[i] for i in todo], accepted), strict=True):
            found[i] = code
            if code is not None and code not in accepted:
                status[i] = OTHER_LANGUAGE
                notes[i].append(f"written in {language_name(code)} ({code}); not analysed: the "
                                f"models read {read} (clean.languages)")  # fmt: skip
        return found

    def analyze_chunk(
        self, frame: pd.DataFrame, columns: cxio.ColumnMap, start: int = 0
    ) -> ChunkResult:
        """Run the per-row stages on one chunk whose first row is input row ``start``."""
        from .sentiment import document_sentiment, document_texts, head_proba

        responses = self.clean_chunk(frame, columns, start)
        todo = np.flatnonzero(responses["status"].to_numpy() == OK)
        emb = embed_documents(self.encoder, responses["text"].iloc[todo].tolist())
        sents = emb.sentences.rename(columns={"doc": "row_id"})
        sents["row_id"] = responses["row_id"].to_numpy()[todo][sents["row_id"].to_numpy()]

        head = self.sentiment
        doc_texts = document_texts(emb.sentences, len(todo))
        doc_p = head_proba(head, emb.docs, doc_texts) if len(todo) else np.zeros((0, 3))
        sent_p = (
            head_proba(head, emb.sentence_vectors, emb.sentences["text"].tolist())
            if len(sents)
            else np.zeros((0, 3))
        )
        labels = document_sentiment(
            doc_p,
            sent_p,
            emb.sentences["doc"].to_numpy(),
            len(todo),
            threshold=getattr(self.sentiment, "mixed_threshold", 0.6),
        )
        for j, name in enumerate(PROBA):
            responses[name] = np.nan
            responses.loc[todo, name] = doc_p[:, j] if len(todo) else []
            sents[name] = sent_p[:, j]
        responses["sentiment"] = pd.Series([None] * len(responses), dtype="object")
        responses.loc[todo, "sentiment"] = np.asarray(labels, dtype=object)
        responses["sentiment_score"] = responses["p_positive"] - responses["p_negative"]
        classes = np.array(["negative", "neutral", "positive"])
        sents["sentiment"] = classes[sent_p.argmax(1)]  # strings even with no sentence
        sents = sents[SENTENCE_COLUMNS]

        mentions = pd.DataFrame(columns=MENTION_COLUMNS)
        if self.themes is not None:
            mentions = self.themes.mentions(sents, emb.sentence_vectors, sent_p)
            from .themes import theme_columns

            per_row = theme_columns(
                mentions.assign(row_id=mentions["row_id"] - start), len(responses)
            )
            responses["themes"] = per_row
            analysed = responses["status"] == OK
            no_theme = analysed & (responses["themes"].str.len() == 0)
            responses.loc[no_theme, "status"] = NO_THEME
        return ChunkResult(responses, sents.reset_index(drop=True), mentions.reset_index(drop=True))

    def pipe(
        self,
        frames: pd.DataFrame | Iterable[pd.DataFrame],
        columns: cxio.ColumnMap,
        chunk_size: int | None = None,
        store: ChunkStore | None = None,
    ) -> Iterator[ChunkResult]:
        """Yield results chunk by chunk (spaCy ``Language.pipe`` style) in input order.

        ``frames`` is the input table or its pieces in order (e.g. :attr:`Source.frames`);
        either way it is cut into chunks of exactly ``chunk_size`` rows. With a
        :class:`~cxnlp.checkpoint.ChunkStore`, finished chunks are written to disk and
        chunks already there are read back instead of analysed again; every chunk is then
        yielded as read from disk, so a resumed run and an uninterrupted one are identical.
        """
        if not isinstance(columns, cxio.ColumnMap):
            raise TypeError(f"columns must be the ColumnMap of Analyzer.detect(frame), not "
                            f"{type(columns).__name__}: columns = analyzer.detect(frame).")
        size = self.config.run.chunk_size if chunk_size is None else chunk_size
        done = store.done() if store else set()
        start = 0
        for index, chunk in enumerate(rechunk(frames, size)):
            if store is None:
                yield self.analyze_chunk(chunk, columns, start)
            else:
                if index not in done:
                    store.save(index, self.analyze_chunk(chunk, columns, start))
                yield ChunkResult(**store.load(index))
            start += len(chunk)

    def checkpoint(self, folder: str | Path, digest: str, resume: bool = False) -> ChunkStore:
        """A chunk store for this run: resuming requires the same input, config and models."""
        config = self.config.model_dump(mode="json")
        config["run"].pop("progress")  # display only: a resumed run may show another bar
        key = {
            "input_sha256": digest,
            "chunk_size": self.config.run.chunk_size,
            "config": config,
            "models": {
                "encoder": self.encoder.model_id,
                "sentiment": getattr(self.sentiment, "model_id_", None),
            },
        }
        return ChunkStore(folder, key, resume=resume)

    # --- the whole run ------------------------------------------------------------------
    def analyze(
        self,
        data: str | Path | pd.DataFrame,
        checkpoint_dir: str | Path | None = None,
        resume: bool = False,
        on_open: Callable[[Source, ChunkStore | None], None] | None = None,
        **overrides: Any,
    ) -> Results:
        """Analyse an export (path or DataFrame) and return :class:`~cxnlp.results.Results`.

        ``checkpoint_dir`` keeps finished chunks on disk; ``resume=True`` skips the chunks an
        interrupted run already finished. ``on_open(source, store)`` is called once the
        column mapping is known, before any chunk runs (the CLI prints the mapping there).
        """
        if overrides:
            return self.with_overrides(**overrides).analyze(data, checkpoint_dir, resume, on_open)
        src = self.open(data)
        store = self.checkpoint(checkpoint_dir, src.digest, resume) if checkpoint_dir else None
        if on_open is not None:
            on_open(src, store)
        chunks = self._progress(self.pipe(src.frames, src.columns, store=store), src.total)
        if store is None:
            tables = concat_chunks(chunks)
        else:  # read back from the parts, so a resumed run and a whole one are the same
            for _ in chunks:
                pass
            tables = store.tables()
        return self.assemble(tables, src.columns, src.digest, source=data)

    def _progress(self, chunks: Iterable[ChunkResult], total: int | None) -> Iterable[ChunkResult]:
        if not self.config.run.progress:
            yield from chunks
            return
        from tqdm.auto import tqdm

        with tqdm(total=total, unit="rows", desc="analysing") as bar:
            for chunk in chunks:
                bar.update(len(chunk.responses))
                yield chunk

    def assemble(
        self,
        tables: dict[str, pd.DataFrame],
        columns: cxio.ColumnMap,
        digest: str,
        source: Any = None,
        sentences: Callable[[np.ndarray], pd.DataFrame] | None = None,
    ) -> Results:
        """Run the corpus stages (metrics, topics, links, drivers) over the run's tables.

        ``tables`` holds ``responses``, ``sentences`` and ``mentions`` of every row in input
        order (:func:`concat_chunks` or :meth:`~cxnlp.checkpoint.ChunkStore.tables`);
        ``sentences(row_ids)`` stands in for a sentence table left on disk.
        """
        from .drivers import apply_corpus_stages
        from .metrics import summarize
        from .topics import discover_topics

        def table(name: str, cols: list[str]) -> pd.DataFrame:
            frame = tables.get(name)
            return frame if frame is not None and len(frame) else pd.DataFrame(columns=cols)

        results = Results(
            responses=table("responses", []),
            sentences=table("sentences", SENTENCE_COLUMNS),
            mentions=table("mentions", MENTION_COLUMNS),
            columns=columns.model_dump() if hasattr(columns, "model_dump") else dict(columns),
            manifest=self.manifest(digest, source),
        )
        dc = self.config.drivers
        results.metrics = summarize(results, confidence=dc.confidence, min_n=dc.min_n)
        # corpus stages over the per-row results, each one call:
        results.topics = discover_topics(results, self)  # first: trends test topics too
        apply_corpus_stages(results, self.config, self.codeframe, self.encoder, sentences)
        for name in ("responses", "sentences", "mentions", *CORPUS_TABLES):
            as_stored(getattr(results, name))  # text as Parquet gives it back: equal to load
        return results

    def run(
        self,
        data: str | Path,
        out: str | Path,
        resume: bool = False,
        on_open: Callable[[Source, ChunkStore | None], None] | None = None,
    ) -> tuple[Results, dict[str, Path]]:
        """Analyse ``data`` and write every output under ``out`` in bounded memory (the CLI).

        Finished chunks are kept as Parquet parts in ``out/.cxnlp-parts`` (``resume=True``
        skips them after an interruption) and removed at the end. The corpus stages read
        back responses and mentions only: the sentences stay on disk (the churn stage reads
        those of at-risk responses) and ``sentences.*`` is written part by part, so a million
        rows fit in a few GiB. The input's text columns (``text`` holds them, cleaned and
        joined) are read back only to write ``responses``. Returns the results, without
        their sentences (:meth:`Results.load` reads everything back), and the files written.
        """
        out = Path(out)
        src = self.open(data)
        store = self.checkpoint(out / ".cxnlp-parts", src.digest, resume)
        if on_open is not None:
            on_open(src, store)
        for _ in self._progress(self.pipe(src.frames, src.columns, store=store), src.total):
            pass
        on_disk = input_text_columns(src.columns)
        with _returning_arrow_memory():
            results = self.assemble(
                store.tables(("responses", "mentions"), drop={"responses": on_disk}),
                src.columns, src.digest, source=data,
                sentences=lambda ids: store.rows("sentences", ids),
            )  # fmt: skip
            written = store.export("sentences", out)
            _put_back(results.responses, store.columns("responses", on_disk),
                      store.column_names("responses"))  # fmt: skip
            written.update(results.save(out, skip=("sentences",)))
        store.remove()
        return results, written

    def manifest(self, digest: str, source: Any = None) -> dict[str, Any]:
        """Versions, model ids and hashes that make a run reproducible."""
        pkgs = [
            "cxnlp",
            "torch",
            "sentence-transformers",
            "transformers",
            "scikit-learn",
            "pandas",
            "numpy",
        ]
        versions = {}
        for p in pkgs:
            try:
                versions[p] = version(p)
            except Exception:  # noqa: BLE001 - a missing optional package is just not listed
                continue
        models = {
            "encoder": self.encoder.model_id,
            "sentiment": getattr(self.sentiment, "model_id_", type(self.sentiment).__name__),
        }
        cf = getattr(self.themes, "codeframe_", None) if self.themes is not None else None
        if self.themes is not None:
            t = self.config.themes
            # a trained head's id, else the classifier's own codeframe (an injected one may
            # not be themes.codeframe); the codeframe a trained head brings is named too
            codeframe = getattr(cf, "name", None)
            injected = self._themes not in (None, False)  # of its own: say what it is
            kind = type(self.themes)
            models["themes"] = (getattr(self.themes, "model_id_", None) or codeframe or (
                f"{kind.__module__}.{kind.__qualname__} (injected)" if injected else t.codeframe))
            if codeframe:
                models["codeframe"] = codeframe
            aspects = getattr(self.themes, "aspect_model_", None)
            if aspects is not None:
                models["aspects"] = aspects.info.get("artifact_id", t.aspect_model)
        return {
            "input": str(source) if not isinstance(source, pd.DataFrame) else "<DataFrame>",
            "input_sha256": digest,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "python": platform.python_version(),
            "packages": versions,
            "models": models,
            "config": self.config.model_dump(mode="json"),
            # the themes' labels, parents and links travel with the results: views and a
            # re-rendered report need them wherever the head or YAML file is (or is not)
            **({"codeframe": cf.model_dump(mode="json", exclude_none=True)} if cf else {}),
        }


def analyze(
    data: str | Path | pd.DataFrame,
    config: Config | dict[str, Any] | str | Path | None = None,
    **overrides: Any,
) -> Results:
    """Analyse a feedback export and return its :class:`~cxnlp.results.Results`.

    Parameters
    ----------
    data : path or DataFrame
        CSV/TSV, XLSX, Parquet or JSON Lines export (Qualtrics and SurveyMonkey layouts are
        recognised), or a DataFrame with one response per row.
    config : Config, dict or path, optional
        Pipeline configuration (default: ``configs/default.yaml``; a dict as in the YAML).
    **overrides
        Settings that win over the config, e.g. ``text_column="comment"``,
        ``score_columns={"Q1": "nps"}``, ``codeframe="retail"``.

    Returns
    -------
    Results
        ``responses`` has exactly one row per input row, in input order, with a fresh
        0..n-1 index: ``row_id`` is the row's position in the input, so a DataFrame with
        another index joins back by position, e.g.
        ``df.reset_index().merge(res.responses, left_index=True, right_on="row_id",
        suffixes=("", "_cx"))``.

    Examples
    --------
    >>> import cxnlp, pandas as pd
    >>> res = cxnlp.analyze(pd.DataFrame({"comment": ["Great staff", "Parcel was late"]}))
    ... # doctest: +SKIP
    >>> res.responses[["row_id", "status", "sentiment"]]  # doctest: +SKIP
    """
    if isinstance(data, (str, os.PathLike)):
        cxio.require_file(data, "cxnlp.analyze reads one file. Pass one file, or run the glob "
                          "on Dask: cxnlp.backends.dask.analyze(pattern, workers=N).")  # fmt: skip
    return Analyzer(config).analyze(data, **overrides)
