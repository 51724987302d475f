"""Topic discovery: BERTopic on the shared encoder's document embeddings.

Finds what people talk about that nobody put in the codeframe. :class:`TopicModel` wraps
BERTopic with the choices this project needs:

* **our embeddings, always**: BERTopic gets ``embedding_model=None`` and ``embeddings=``, so it
  never loads a model by hub name; KeyBERT-style labels and representative verbatims are
  computed from the same vectors (candidate keywords are embedded by our encoder, cached);
* **reproducible**: UMAP gets exact cosine neighbours (:class:`ExactUMAP`, one matrix
  product instead of a per-pair callback or random NN-descent), a fixed ``random_state`` and
  one thread; HDBSCAN and c-TF-IDF are deterministic; the fit sample is drawn with the seed;
* **bounded memory**: the model is fitted on at most ``max_fit_docs`` documents and the rest
  are assigned with :meth:`TopicModel.transform` in batches;
* **outliers reported, then reduced**: HDBSCAN's outliers are reassigned to the nearest topic
  centroid when their cosine similarity is above ``outlier_threshold``
  (``reduce_outliers(strategy="embeddings")``); both shares are reported.

:func:`discover_topics` is the pipeline's corpus stage (it fills ``Results.topics``) and
:func:`suggest_codeframe` turns topics into a starting codeframe (``cxnlp codeframe suggest``).

BERTopic is an optional dependency: ``pip install 'cxnlp[topics]'``.
"""

from __future__ import annotations

import logging
import re
import unicodedata
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError

__all__ = [
    "TOPIC_COLUMNS",
    "TopicModel",
    "discover_topics",
    "suggest_codeframe",
    "topics_available",
]

#: Columns of ``Results.topics`` (one row per discovered topic; outliers are not a topic).
TOPIC_COLUMNS = [
    "topic", "label", "keywords", "size", "share", "negative", "neutral", "positive", "mixed",
    "sentiment_score", "representatives", "matched_theme", "theme_similarity",
]  # fmt: skip

_INSTALL = "pip install 'cxnlp[topics]' (or: pip install bertopic)"


def topics_available() -> bool:
    """Whether BERTopic (and its UMAP / HDBSCAN) can be imported."""
    try:
        import bertopic  # noqa: F401
    except ImportError:
        return False
    return True


def _require_bertopic() -> None:
    if not topics_available():
        raise ImportError(f"Topic discovery needs BERTopic, which is not installed. {_INSTALL}")


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.linalg.norm(x, axis=-1, keepdims=True).clip(1e-12)


def exact_knn(
    queries: np.ndarray, points: np.ndarray, k: int, cells: int = 4_000_000
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest ``points`` of each query by cosine distance, exactly (blocked matmul).

    Ties are broken by index, so the answer never depends on threads or process. Queries go
    in blocks of at most ``cells`` distances (~50 MB of temporaries), whatever the corpus.
    """
    q, p = _normalise(queries), _normalise(points)
    block = max(1, cells // max(1, len(p)))
    k = min(k, len(p))
    idx = np.empty((len(q), k), dtype=np.int32)
    dist = np.empty((len(q), k), dtype=np.float32)
    for s in range(0, len(q), block):
        d = np.clip(1.0 - q[s : s + block] @ p.T, 0.0, 2.0)
        part = np.argpartition(d, k - 1, axis=1)[:, :k] if k < len(p) else np.tile(
            np.arange(len(p)), (len(d), 1))  # fmt: skip
        part.sort(axis=1)  # candidates by index, then a stable sort by distance
        near = np.take_along_axis(d, part, axis=1)
        order = np.argsort(near, axis=1, kind="stable")
        idx[s : s + block] = np.take_along_axis(part, order, axis=1)
        dist[s : s + block] = np.take_along_axis(near, order, axis=1)
    return idx, dist


#: UMAP's numba functions that it compiles on its first fit in every process (they lack
#: ``cache=True``): about 3 s of each ``cxnlp analyze`` run on 2 cores
#: (``benchmarks/startup.py``).
_UNCACHED_JIT = (
    ("umap.layouts", "_nb_optimize_layout_euclidean_single_epoch"),
    ("umap.umap_", "smooth_knn_dist"),
    ("umap.umap_", "compute_membership_strengths"),
)


def cache_umap_jit() -> int:
    """Let numba cache UMAP's compiled layout functions on disk; returns how many it caches.

    Numba keeps compiled code beside the source (``__pycache__``) or in the user's cache
    (``NUMBA_CACHE_DIR``, else ``~/.cache/numba``), keyed by source, signature and CPU, so the
    next process loads it instead of compiling; the machine code, and so the layout, is the
    same. Where no cache location is writable the functions compile as before.
    """
    import importlib

    try:  # numba internals: a numba without them only loses the speed-up
        from numba.core.caching import NullCache
        from numba.core.dispatcher import Dispatcher
    except ImportError:
        return 0
    cached = 0
    for module, name in _UNCACHED_JIT:
        fn = getattr(importlib.import_module(module), name, None)
        cache = getattr(fn, "_cache", None)
        if isinstance(fn, Dispatcher) and isinstance(cache, NullCache):
            try:
                fn.enable_caching()
            except RuntimeError:  # numba: no writable cache location for this file
                continue
        cached += isinstance(fn, Dispatcher) and not isinstance(fn._cache, NullCache)
    return cached


class ExactUMAP:
    """UMAP on exact cosine neighbours: fast, and identical in every process.

    UMAP's own neighbour search is either a Python callback per pair (under 4,096 points:
    seconds for a few thousand tweets) or NN-descent (random across processes). One matrix
    product gives the exact neighbours instead, passed as ``precomputed_knn``, and the layout
    starts from a seeded random init (see :meth:`fit`). New points
    (``transform``) are placed at the membership-weighted mean of their exact neighbours'
    coordinates, which is UMAP's own initialisation for new data.
    """

    def __init__(self, n_neighbors: int = 15, random_state: int = 0, **umap_params: Any) -> None:
        self.n_neighbors = n_neighbors
        self.random_state = random_state
        self.umap_params = umap_params

    def fit(self, X: np.ndarray, y: Any = None) -> ExactUMAP:
        from umap import UMAP

        cache_umap_jit()
        self.train_ = np.asarray(X, dtype=np.float32)
        knn = exact_knn(self.train_, self.train_, self.n_neighbors)
        # init="random": the spectral init (ARPACK) came out different in every process on
        # the same graph (duplicate texts make its eigenvectors degenerate); the seeded
        # random init and the serial layout optimisation are the same everywhere
        self.umap_ = UMAP(
            n_neighbors=self.n_neighbors, metric="cosine", random_state=self.random_state,
            precomputed_knn=knn, n_jobs=1, init="random", **self.umap_params,
        ).fit(self.train_)  # fmt: skip
        self.embedding_ = self.umap_.embedding_
        return self

    def fit_transform(self, X: np.ndarray, y: Any = None) -> np.ndarray:
        return self.fit(X, y).embedding_

    def transform(self, X: np.ndarray) -> np.ndarray:
        from umap.umap_ import smooth_knn_dist

        cache_umap_jit()
        X = np.asarray(X, dtype=np.float32)
        if X.shape == self.train_.shape and np.array_equal(X, self.train_):
            return self.embedding_
        idx, dist = exact_knn(X, self.train_, self.n_neighbors)
        sigmas, rhos = smooth_knn_dist(dist, float(idx.shape[1]), local_connectivity=1.0)
        w = np.exp(-np.maximum(dist - rhos[:, None], 0.0) / sigmas[:, None])
        w /= w.sum(axis=1, keepdims=True).clip(1e-12)
        return np.einsum("nk,nkd->nd", w, self.embedding_[idx]).astype(np.float32)


class TopicModel:
    """BERTopic on precomputed embeddings, reproducible and bounded in memory.

    Parameters
    ----------
    seed : int
        Seed of UMAP and of the fit sample: same input and seed give the same topics.
    min_topic_size : int
        Smallest topic HDBSCAN may form; grows with the corpus (``n / 400``) so large exports
        give tens of topics, not hundreds. From 1,000 documents on, no topic may hold more
        than a fifth of the fit sample (``max_cluster_size``).
    max_fit_docs : int
        Most documents the model is fitted on; the others are assigned by :meth:`transform`.
    n_neighbors, n_components : int
        UMAP neighbourhood size and output dimension (capped for small corpora).
    top_n_words : int
        c-TF-IDF keywords kept per topic.
    outlier_threshold : float
        Cosine similarity to a topic centroid above which an HDBSCAN outlier joins that topic
        (``None``: keep every outlier). 0.70 by default: below it, reassigned outliers agreed
        with their topic little better than chance on clothing train reviews (see
        :class:`~cxnlp.config.TopicsConfig`).
    n_representatives : int
        Representative verbatims per topic (the members closest to the centroid).
    umap_epochs : int
        UMAP's optimisation epochs. 200 (UMAP's own default is 500 up to 10,000 points): a
        10k-review layout takes ~4 s instead of ~10 s; fewer lost topic-label agreement on
        the train splits of ``benchmarks/themes.py --only epochs``.
    encoder : Encoder, optional
        Embeds candidate keywords for KeyBERT-style labels; without it labels are the top
        c-TF-IDF keywords.

    Attributes
    ----------
    bertopic_ : BERTopic
        The fitted model.
    topic_ids_ : list of int
        Topic ids (``0..k-1``, by size in the fit sample; ``-1`` is the outlier topic).
    keywords_ : dict[int, list[str]]
        c-TF-IDF keywords per topic (English stop words removed, uni- and bigrams).
    labels_ : dict[int, str]
        Short label per topic (KeyBERT-style: keywords closest to the topic centroid).
    centroids_ : ndarray (n_topics, dim)
        Normalised mean embedding of each topic's fit documents.
    fit_outlier_share_ : float
        Share of fit documents HDBSCAN left as outliers (before reduction).
    """

    def __init__(
        self,
        seed: int = 0,
        min_topic_size: int = 10,
        max_fit_docs: int = 20_000,
        n_neighbors: int = 15,
        n_components: int = 5,
        top_n_words: int = 10,
        outlier_threshold: float | None = 0.70,
        n_representatives: int = 3,
        umap_epochs: int = 200,
        encoder: Any = None,
    ) -> None:
        self.seed = seed
        self.min_topic_size = min_topic_size
        self.max_fit_docs = max_fit_docs
        self.n_neighbors = n_neighbors
        self.n_components = n_components
        self.top_n_words = top_n_words
        self.outlier_threshold = outlier_threshold
        self.n_representatives = n_representatives
        self.umap_epochs = umap_epochs
        self.encoder = encoder

    # -- parameters -------------------------------------------------------------------
    def _validate_params(self) -> None:
        if self.min_topic_size < 2:
            raise ValueError(f"min_topic_size must be >= 2, got {self.min_topic_size}")
        if self.umap_epochs < 1:
            raise ValueError(f"umap_epochs must be >= 1, got {self.umap_epochs}")
        if self.max_fit_docs < 10:
            raise ValueError(f"max_fit_docs must be >= 10, got {self.max_fit_docs}")
        if self.outlier_threshold is not None and not -1 <= self.outlier_threshold <= 1:
            raise ValueError(f"outlier_threshold must be in [-1, 1], got {self.outlier_threshold}")

    def cluster_size(self, n: int) -> int:
        """HDBSCAN ``min_cluster_size`` for ``n`` fit documents."""
        return int(max(self.min_topic_size, round(n / 400)))

    def get_params(self, deep: bool = False) -> dict[str, Any]:
        """Constructor parameters (scikit-learn convention)."""
        names = ("seed", "min_topic_size", "max_fit_docs", "n_neighbors", "n_components",
                 "top_n_words", "outlier_threshold", "n_representatives", "umap_epochs",
                 "encoder")  # fmt: skip
        return {n: getattr(self, n) for n in names}

    def set_params(self, **params: Any) -> TopicModel:
        """Set constructor parameters (scikit-learn convention)."""
        for k, v in params.items():
            if k not in self.get_params():
                raise ValueError(f"Unknown parameter {k!r} for TopicModel")
            setattr(self, k, v)
        return self

    def _build(self, n: int) -> Any:
        from bertopic import BERTopic
        from bertopic.vectorizers import ClassTfidfTransformer
        from hdbscan import HDBSCAN
        from sklearn.feature_extraction.text import CountVectorizer
        size = self.cluster_size(n)
        umap = ExactUMAP(
            n_neighbors=int(max(2, min(self.n_neighbors, n - 1))),
            n_components=int(max(2, min(self.n_components, n - 2))),
            min_dist=0.0,
            random_state=self.seed,
            n_epochs=self.umap_epochs,
        )
        hdb = HDBSCAN(
            min_cluster_size=size,
            min_samples=max(2, size // 2),
            metric="euclidean",
            cluster_selection_method="eom",
            # on large exports "eom" tends to keep one giant cluster of generic praise; a
            # cap (a fifth of the corpus) makes it descend to the topics inside it
            max_cluster_size=0 if n < 1000 else int(n * 0.2),
            prediction_data=True,
        )
        vectorizer = CountVectorizer(
            stop_words="english", ngram_range=(1, 2), token_pattern=r"(?u)\b[^\W\d_][\w'-]+\b"
        )
        return BERTopic(
            embedding_model=None,
            umap_model=umap,
            hdbscan_model=hdb,
            vectorizer_model=vectorizer,
            ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
            top_n_words=max(20, self.top_n_words),
            calculate_probabilities=False,
            verbose=False,
        )

    # -- fitting ------------------------------------------------------------------------
    def _check(self, docs: Sequence[str], embeddings: np.ndarray) -> tuple[list[str], np.ndarray]:
        docs = [str(d) for d in docs]
        emb = np.asarray(embeddings, dtype=np.float32)
        if emb.ndim != 2 or len(emb) != len(docs):
            raise ValueError(
                f"embeddings must have one row per document: {len(docs)} documents, "
                f"embeddings of shape {emb.shape}"
            )
        return docs, emb

    def fit(self, docs: Sequence[str], embeddings: np.ndarray) -> TopicModel:
        """Fit on ``docs`` (at most ``max_fit_docs`` of them, sampled with ``seed``).

        Parameters
        ----------
        docs : list of str
            The texts (for c-TF-IDF keywords and representatives).
        embeddings : ndarray (n, dim)
            Their embeddings from the shared encoder; BERTopic never embeds anything itself.
        """
        self._validate_params()
        _require_bertopic()
        docs, emb = self._check(docs, embeddings)
        if len(docs) < 10:
            raise ValueError(f"Topic discovery needs at least 10 documents, got {len(docs)}")
        idx = self.sample(len(docs))
        fit_docs = [docs[i] for i in idx]
        fit_emb = emb[idx]
        model = self._build(len(idx))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # numba / umap chatter about n_jobs and seeds
            logging.getLogger("BERTopic").setLevel(logging.WARNING)
            topics, _ = model.fit_transform(fit_docs, embeddings=fit_emb)
        topics = np.asarray(topics, dtype=int)
        self.bertopic_ = model
        self.fit_index_ = idx
        self.fit_topics_ = topics
        self.fit_outlier_share_ = float(np.mean(topics == -1)) if len(topics) else 0.0
        self.topic_ids_ = sorted(int(t) for t in set(topics.tolist()) if t != -1)
        cents = [fit_emb[topics == t].mean(axis=0) for t in self.topic_ids_]
        dim = emb.shape[1]
        self.centroids_ = _normalise(np.array(cents)) if cents else np.zeros((0, dim), np.float32)
        self.keywords_ = {t: self._keywords(t, self.top_n_words) for t in self.topic_ids_}
        self.labels_ = self._labels()
        self.n_features_in_ = dim
        return self

    def sample(self, n: int) -> np.ndarray:
        """Indices of the documents a fit uses: all ``n``, or ``max_fit_docs`` of them (seeded)."""
        if n <= self.max_fit_docs:
            return np.arange(n)
        rng = np.random.default_rng(self.seed)
        return np.sort(rng.choice(n, self.max_fit_docs, replace=False))

    def _keywords(self, topic: int, n: int) -> list[str]:
        words = self.bertopic_.get_topic(topic) or []
        return [w for w, score in words if w and score > 0][:n]

    def _labels(self) -> dict[int, str]:
        """KeyBERT-style: of each topic's c-TF-IDF candidates, those nearest its centroid."""
        cands = {t: self._keywords(t, 20) for t in self.topic_ids_}
        vocab = sorted({w for ws in cands.values() for w in ws})
        vecs: dict[str, np.ndarray] = {}
        if self.encoder is not None and vocab:
            vecs = dict(zip(vocab, _normalise(self.encoder.encode(vocab)), strict=True))
        labels = {}
        for k, t in enumerate(self.topic_ids_):
            words = cands[t]
            if vecs:
                sims = np.array([vecs[w] @ self.centroids_[k] for w in words])
                # keyword relevance to the topic, nudged by its c-TF-IDF rank
                rank = 0.02 * np.arange(len(words))
                words = [words[i] for i in np.argsort(-(sims - rank), kind="stable")]
            labels[t] = ", ".join(_distinct(words, 3)) or f"topic {t}"
        return labels

    # -- assignment ---------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "bertopic_"):
            raise RuntimeError("This TopicModel is not fitted yet: call fit(docs, embeddings).")

    def transform(
        self, docs: Sequence[str], embeddings: np.ndarray, batch_size: int = 10_000
    ) -> np.ndarray:
        """Topic id of each document (``-1``: outlier), outliers reduced where sensible."""
        self._check_fitted()
        docs, emb = self._check(docs, embeddings)
        out = np.full(len(docs), -1, dtype=int)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for s in range(0, len(docs), batch_size):
                pred, _ = self.bertopic_.transform(
                    docs[s : s + batch_size], embeddings=emb[s : s + batch_size]
                )
                out[s : s + batch_size] = np.asarray(pred, dtype=int)
        return self.reduce_outliers(docs, emb, out)

    def reduce_outliers(
        self, docs: Sequence[str], embeddings: np.ndarray, topics: np.ndarray
    ) -> np.ndarray:
        """Reassign outliers to the most similar topic above ``outlier_threshold``."""
        self._check_fitted()
        topics = np.asarray(topics, dtype=int)
        if self.outlier_threshold is None or not self.topic_ids_ or not (topics == -1).any():
            return topics
        if not self.bertopic_._outliers:
            # the fit had no outliers, so BERTopic refuses; same rule on its topic vectors
            out = topics.copy()
            lost = np.flatnonzero(topics == -1)
            sims = (
                _normalise(np.asarray(embeddings)[lost])
                @ _normalise(np.asarray(self.bertopic_.topic_embeddings_)).T
            )
            best = sims.argmax(axis=1)
            keep = sims[np.arange(len(lost)), best] >= self.outlier_threshold
            out[lost[keep]] = best[keep]
            return out
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            new = self.bertopic_.reduce_outliers(
                list(docs), topics.tolist(), strategy="embeddings",
                embeddings=np.asarray(embeddings, dtype=np.float32),
                threshold=self.outlier_threshold,
            )  # fmt: skip
        return np.asarray(new, dtype=int)

    def fit_transform(self, docs: Sequence[str], embeddings: np.ndarray) -> np.ndarray:
        """Fit on a bounded sample, assign every document, reduce outliers."""
        docs, emb = self._check(docs, embeddings)
        return self.fit_assign(docs, lambda rows: emb[rows])

    def fit_assign(
        self,
        docs: Sequence[str],
        embed: Callable[[np.ndarray], np.ndarray],
        batch_size: int = 10_000,
    ) -> np.ndarray:
        """:meth:`fit_transform` asking ``embed(rows)`` for the vectors of ``docs[rows]``.

        Only the fit sample's vectors and one batch of the others are held at a time, so
        assigning a million documents costs the memory of ``max_fit_docs`` (e.g. vectors read
        back from the encoder's cache). ``docs`` may be a pandas Series of strings: only the
        texts used become Python strings. Also sets ``representatives_`` (from the fit sample).
        """
        docs = pd.Series(docs) if not isinstance(docs, pd.Series) else docs
        docs = docs.reset_index(drop=True)

        def texts(rows: np.ndarray) -> list[str]:
            return [str(t) for t in docs.iloc[rows].tolist()]

        idx = self.sample(len(docs))
        fit_docs, fit_emb = texts(idx), np.asarray(embed(idx), np.float32)
        self.fit(fit_docs, fit_emb)
        self.fit_index_ = idx
        topics = np.full(len(docs), -1, dtype=int)
        topics[idx] = self.reduce_outliers(fit_docs, fit_emb, self.fit_topics_)
        self.representatives_ = self.representatives(fit_docs, fit_emb, topics[idx])
        rest = np.setdiff1d(np.arange(len(docs)), idx)
        # a text repeated in the rest is assigned once (assignment is row by row, so equal
        # texts get equal topics): exports repeat "great service" thousands of times
        codes = pd.factorize(docs.iloc[rest].astype(str))[0]
        _, first = np.unique(codes, return_index=True)
        owner = rest[first][codes]  # row of the first copy of each rest row's text
        distinct = np.sort(rest[first])
        for s in range(0, len(distinct), batch_size):
            rows = distinct[s : s + batch_size]
            topics[rows] = self.transform(texts(rows), embed(rows), batch_size)
        topics[rest] = topics[owner]
        return topics

    # -- description --------------------------------------------------------------------
    def representatives(
        self, docs: Sequence[str], embeddings: np.ndarray, topics: np.ndarray
    ) -> dict[int, list[str]]:
        """The ``n_representatives`` distinct members of each topic closest to its centroid.

        Very short members (fewer than four words) are only used when nothing longer exists.
        """
        self._check_fitted()
        emb = np.asarray(embeddings, dtype=np.float32)
        topics = np.asarray(topics, dtype=int)
        out: dict[int, list[str]] = {}
        for k, t in enumerate(self.topic_ids_):
            members = np.flatnonzero(topics == t)
            if not len(members):
                out[t] = []
                continue
            sims = emb[members] @ self.centroids_[k]
            short = np.array([len(str(docs[i]).split()) < 4 for i in members])
            order = members[np.lexsort((-sims, short))]
            picked: list[str] = []
            for i in order:
                text = str(docs[i]).strip()
                if text and text.casefold() not in {p.casefold() for p in picked}:
                    picked.append(text)
                if len(picked) == self.n_representatives:
                    break
            out[t] = picked
        return out


def _distinct(words: Sequence[str], n: int) -> list[str]:
    """The first ``n`` phrases that share no word with a phrase already taken."""
    taken: list[str] = []
    used: set[str] = set()
    for w in words:
        toks = set(w.lower().split())
        stems = {t.rstrip("s") for t in toks}
        if stems & used:
            continue
        taken.append(w)
        used |= stems
        if len(taken) == n:
            break
    return taken


# --------------------------------------------------------------------------- tables


def topic_table(
    model: TopicModel,
    topics: np.ndarray,
    classifier: Any = None,
    match_threshold: float = 0.50,
    responses: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per topic: label, keywords, size, share, sentiment mix, representatives, match.

    ``topics`` is what :meth:`TopicModel.fit_transform` returned (representatives come from
    its fit sample); ``responses`` (aligned with ``topics``) supplies ``sentiment`` and
    ``sentiment_score``;
    ``classifier`` (a :class:`~cxnlp.themes.CodeframeClassifier`) matches each topic centroid
    to the nearest codeframe theme prototype; ``matched_theme`` is empty below
    ``match_threshold`` (the codeframe misses that topic).
    """
    topics = np.asarray(topics, dtype=int)
    n = max(len(topics), 1)
    reps = model.representatives_
    ids = model.topic_ids_
    matched: list[str | None] = [None] * len(ids)
    msim = np.full(len(ids), np.nan)
    if classifier is not None and len(ids):
        sims = np.asarray(classifier.similarities(model.centroids_))
        best = sims.argmax(axis=1)
        msim = sims[np.arange(len(ids)), best]
        theme_ids = list(classifier.theme_ids_)
        matched = [
            theme_ids[b] if s >= match_threshold else "" for b, s in zip(best, msim, strict=True)
        ]
    rows = []
    for k, t in enumerate(ids):
        mask = topics == t
        row: dict[str, Any] = {
            "topic": int(t),
            "label": model.labels_[t],
            "keywords": list(model.keywords_[t]),
            "size": int(mask.sum()),
            "share": round(float(mask.sum()) / n, 4),
        }
        if responses is not None and "sentiment" in responses:
            sent = responses["sentiment"].to_numpy()[mask]
            for lab in ("negative", "neutral", "positive", "mixed"):
                row[lab] = round(float(np.mean(sent == lab)), 4) if len(sent) else np.nan
            score = pd.to_numeric(responses["sentiment_score"].to_numpy()[mask], errors="coerce")
            row["sentiment_score"] = round(float(np.nanmean(score)), 4) if len(score) else np.nan
        else:
            row.update(negative=np.nan, neutral=np.nan, positive=np.nan, mixed=np.nan,
                       sentiment_score=np.nan)  # fmt: skip
        row["representatives"] = reps.get(t, [])
        row["matched_theme"] = matched[k]
        row["theme_similarity"] = round(float(msim[k]), 4) if np.isfinite(msim[k]) else np.nan
        rows.append(row)
    table = pd.DataFrame(rows, columns=TOPIC_COLUMNS)
    return table.sort_values(
        ["size", "topic"], ascending=[False, True], kind="mergesort"
    ).reset_index(drop=True)


def _empty_topics() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in TOPIC_COLUMNS})


def _doc_embeddings(encoder: Any, texts: list[str], batch: int = 2000) -> np.ndarray:
    """Document vectors as the pipeline makes them (mean of sentence vectors), from the cache."""
    from .encode import embed_documents

    parts = [
        embed_documents(encoder, texts[s : s + batch]).docs for s in range(0, len(texts), batch)
    ]
    return np.vstack(parts) if parts else np.zeros((0, encoder.dim), np.float32)


def _fit_topics(analyzer: Any, texts: Sequence[str]) -> tuple[TopicModel, np.ndarray]:
    """A :class:`TopicModel` per ``analyzer.config.topics`` fitted on ``texts``, and their topics.

    Document vectors are asked for batch by batch (:meth:`TopicModel.fit_assign`), so the
    memory they take is bounded by ``topics.max_fit_docs`` however long the export.
    """
    cfg = analyzer.config.topics
    model = TopicModel(seed=cfg.seed, min_topic_size=cfg.min_topic_size,
                       max_fit_docs=cfg.max_fit_docs, outlier_threshold=cfg.outlier_threshold,
                       encoder=analyzer.encoder)  # fmt: skip
    docs = pd.Series(texts) if not isinstance(texts, pd.Series) else texts
    embed = lambda rows: _doc_embeddings(analyzer.encoder, docs.iloc[rows].astype(str).tolist())  # noqa: E731
    return model, model.fit_assign(docs, embed)


def discover_topics(results: Any, analyzer: Any) -> pd.DataFrame:
    """Corpus stage: discover topics over the analysed responses of a run.

    Fits a :class:`TopicModel` on the document embeddings of the analysed rows (re-requested
    from the encoder, whose on-disk cache makes this a lookup) and returns the table for
    ``Results.topics`` (columns :data:`TOPIC_COLUMNS`). As side effects,
    ``results.responses`` gains a ``topic`` column (nullable int: the topic id, ``-1`` for an
    outlier, empty for rows that were not analysed) and ``results.metrics["topics"]`` says
    what was done: ``status`` ``ok``, or ``skipped`` / ``disabled`` / ``failed`` with the
    reason, the number of topics and the outlier shares.

    Skipped (with a note, never an error) when fewer than ``topics.min_docs`` rows were
    analysed or BERTopic is not installed.
    """
    from .results import analysed

    cfg = analyzer.config.topics
    responses = results.responses
    note: dict[str, Any] = {"status": "disabled"}
    results.metrics["topics"] = note
    if not cfg.enabled:
        note["reason"] = "topics.enabled is false"
        return _empty_topics()
    rows = np.flatnonzero(analysed(responses))
    if len(rows) < cfg.min_docs:
        note.update(status="skipped", reason=(
            f"{len(rows)} analysed rows < topics.min_docs={cfg.min_docs}: too few to "
            "discover topics"))  # fmt: skip
        return _empty_topics()
    if not topics_available():
        note.update(status="skipped", reason=f"BERTopic is not installed: {_INSTALL}")
        return _empty_topics()
    texts = responses["text"].iloc[rows].reset_index(drop=True)  # no Python string per row
    try:
        model, topics = _fit_topics(analyzer, texts)
        mix = responses[[c for c in ("sentiment", "sentiment_score") if c in responses]]
        table = topic_table(model, topics, analyzer.themes, cfg.match_threshold,
                            mix.iloc[rows].reset_index(drop=True))  # fmt: skip
    except Exception as exc:  # noqa: BLE001 - a corpus stage must not lose a finished run
        warnings.warn(f"Topic discovery failed and was skipped: {exc!r}", stacklevel=2)
        note.update(status="failed", reason=f"{type(exc).__name__}: {exc}")
        return _empty_topics()
    column = pd.array([pd.NA] * len(responses), dtype="Int64")
    column[rows] = topics
    responses["topic"] = column
    note.update(_summary(model, topics, table))
    return table


def _summary(model: TopicModel, topics: np.ndarray, table: pd.DataFrame) -> dict:
    # no run time here: metrics must be byte-identical between runs (issue 6)
    from importlib.metadata import version

    matched = table["matched_theme"]
    return {
        "status": "ok",
        "n_topics": len(model.topic_ids_),
        "documents": int(len(topics)),
        "fit_documents": int(len(model.fit_index_)),
        "outlier_share": round(float(np.mean(topics == -1)), 4) if len(topics) else 0.0,
        "outlier_share_before_reduction": round(model.fit_outlier_share_, 4),
        "unmatched_topics": int((matched.fillna("") == "").sum()) if len(table) else 0,
        "min_cluster_size": model.cluster_size(len(model.fit_index_)),
        "seed": model.seed,
        "bertopic": version("bertopic"),
    }


# --------------------------------------------------------------------------- codeframe


def _slug(words: Sequence[str], taken: set[str], fallback: str) -> str:
    text = "_".join(w for ws in words for w in ws.split())
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"[^a-z0-9_]+", "_", text).strip("_")[:40].strip("_") or fallback
    return _unique(text, taken, "{}_{}")


def _unique(text: str, taken: set[str], numbered: str) -> str:
    """``text``, or its first numbered form (``numbered.format(text, 2)``...) not in ``taken``
    (compared lower-cased), recorded as taken: suggested ids and labels must each differ."""
    out, i = text, 2
    while out.lower() in taken:
        out, i = numbered.format(text, i), i + 1
    taken.add(out.lower())
    return out


def shorten(text: str, limit: int = 160) -> str:
    """``text`` on one line, cut at a word boundary to at most ``limit`` characters."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:.-")
    return cut + "…"


def suggest_codeframe(
    data: str | Path | pd.DataFrame,
    analyzer: Any = None,
    base: str | None = "generic",
    name: str | None = None,
) -> tuple[Any, pd.DataFrame, str]:
    """Propose a codeframe from the topics discovered in an export.

    Parameters
    ----------
    data : path or DataFrame
        The export (read, cleaned and PII-redacted as :meth:`Analyzer.analyze` does).
    analyzer : Analyzer, optional
        Supplies config (``io``, ``clean``, ``topics``) and the shared encoder.
    base : str or None
        Codeframe (shipped name or YAML path) the topics are compared with; themes it already
        covers say so in their description. ``None``: no comparison.
    name : str, optional
        Name of the new codeframe (default: ``suggested-<file stem>``).

    Returns
    -------
    (Codeframe, DataFrame, str)
        The validated codeframe, the topic table, and the YAML text with a header comment.
    """
    from .pipeline import OK, Analyzer
    from .themes import Codeframe, CodeframeClassifier

    _require_bertopic()
    analyzer = analyzer or Analyzer()
    cfg = analyzer.config.topics
    frame, columns, _ = analyzer.read(data)
    cleaned = analyzer.clean_chunk(frame, columns, 0)
    texts = cleaned.loc[cleaned["status"] == OK, "text"].astype(str).tolist()
    if len(texts) < cfg.min_docs:
        raise InputError(
            f"{len(texts)} non-empty responses in {_source(data)}; suggesting a codeframe "
            f"needs at least topics.min_docs={cfg.min_docs}. Use a larger export."
        )
    model, topics = _fit_topics(analyzer, texts)
    base_cf = Codeframe.load(base) if base else None
    clf = CodeframeClassifier(base_cf, analyzer.encoder) if base_cf else None
    table = topic_table(model, topics, clf, cfg.match_threshold)
    if table.empty:
        raise InputError(
            f"No topic found in {_source(data)} ({len(texts)} responses, all outliers). "
            "Lower topics.min_topic_size or use a larger export."
        )
    taken: set[str] = set()
    labels: set[str] = set()  # two topics can share their top words
    themes = []
    for row in table.itertuples(index=False):
        label = _unique(shorten(row.label.replace(", ", " / "), 60).capitalize(), labels, "{} ({})")
        words = [w for w in row.label.split(", ") if w][:3]
        reps = [shorten(r) for r in row.representatives]
        desc = f"Customers mention {', '.join(row.keywords[:6])}"
        if reps:
            desc += f', e.g. "{shorten(row.representatives[0], 100)}"'
        theme: dict[str, Any] = {
            "id": _slug(words, taken, f"topic_{row.topic}"),
            "label": label,
            "description": desc + ".",
            "examples": reps,
            "keywords": list(row.keywords[:5]),
        }
        if row.matched_theme and base_cf is not None:
            known = base_cf.theme(row.matched_theme)
            theme["description"] += (
                f" Overlaps '{known.id}' ({known.label}) of codeframe "
                f"'{base_cf.name}' (similarity {row.theme_similarity:.2f})."
            )
            theme["touchpoint"] = known.touchpoint
            theme["churn_reason"] = known.churn_reason
        themes.append({k: v for k, v in theme.items() if v is not None})
    stem = Path(data).stem if not isinstance(data, pd.DataFrame) else "dataframe"
    cf_name = name or f"suggested-{stem}"
    cf = Codeframe.from_dict(
        {"name": cf_name, "version": "1",
         "description": f"Suggested from {len(table)} topics discovered in {_source(data)}; edit "
                        "ids, labels and descriptions before use.",
         "themes": themes},
        source=cf_name,
    )  # fmt: skip
    overlap = table["matched_theme"].fillna("").astype(bool)
    n_out = float(np.mean(topics == -1))
    header = [
        f"# Codeframe suggested by `cxnlp codeframe suggest` from {_source(data)}",
        f"# {len(texts):,} responses, {len(table)} topics (seed {cfg.seed}), "
        f"{n_out:.0%} left as outliers.",
    ]
    if base_cf is not None and overlap.all():
        header.append(
            f"# All {len(table)} topic(s) overlap a theme of codeframe '{base_cf.name}' (said in "
            "their description): it misses none of them."
        )
    elif base_cf is not None:
        header.append(
            f"# {int(overlap.sum())} topic(s) overlap a theme of codeframe '{base_cf.name}' "
            "(said in their description); the others are what it misses:"
        )
        for row in table[~overlap].itertuples(index=False):
            header.append(f"#   - {row.label} ({row.size} responses)")
    header.append("# Edit ids, labels and descriptions; delete what you do not need.")
    return cf, table, "\n".join(header) + "\n" + cf.to_yaml()


def _source(data: Any) -> str:
    return "<DataFrame>" if isinstance(data, pd.DataFrame) else str(data)
