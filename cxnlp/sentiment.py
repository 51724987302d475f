"""Sentiment head on the shared sentence embeddings: calibrated probabilities, doc + sentence level.

The head is a multinomial logistic regression on the encoder's 384-d L2-normalised vectors,
with one temperature (fitted on a held-out part of the training data) so that its
probabilities are calibrated. Inference is one matrix product in numpy, so loading is
instant and nothing but ``numpy`` + ``safetensors`` is needed at run time.

Artifacts are ``sentiment.safetensors`` (weights), ``config.json`` (classes, temperature,
encoder model id, hyperparameters, mixed threshold) and ``MODEL_CARD.md``, whose
``sha256`` block is checked on every :meth:`SentimentClassifier.load`. No pickles.

Documents get one of ``negative`` / ``neutral`` / ``positive`` / ``mixed``
(:func:`document_sentiment`); sentences get the three base labels.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from .errors import ModelError
from .linalg import row_dot
from .paths import models_dir
from .training.cards import CARD_FILE as CARD_FILE  # re-exported: the card's file name
from .training.cards import verify_checksums, write_card

if TYPE_CHECKING:
    from .encode import DocumentEmbeddings, Encoder

__all__ = [
    "CLASSES",
    "TEXT_CUES",
    "SentimentClassifier",
    "document_sentiment",
    "document_texts",
    "head_proba",
    "load_sentiment",
    "text_cues",
    "train_sentiment",
]

#: Base classes of the head, in column order of ``predict_proba``.
CLASSES: tuple[str, str, str] = ("negative", "neutral", "positive")
#: Extra document label when confident positive and negative sentences co-occur.
MIXED = "mixed"

WEIGHTS_FILE = "sentiment.safetensors"
CONFIG_FILE = "config.json"
FORMAT_VERSION = 1
#: How to fix a sentiment artifact that fails its checks.
_FIX = "reinstall cxnlp or retrain with `cxnlp train sentiment --out DIR`"

#: Words that name a problem; "negated_problem" fires when they are negated or resolved.
_PROBLEM = (
    r"(?:problems?|issues?|complaints?|troubles?|hassles?|faults?|worries|complications?"
    r"|glitch(?:es)?|hiccups?|difficult(?:y|ies))"
)
#: Between a problem and "solved": any text but a negator or a "not yet" word, so that "the
#: problem was never solved" and "the issue will be fixed" do not read as resolved.
_NO_NEGATOR = (
    r"(?:(?!\b(?:not|never|no|nothing|nobody|none|still|yet|until|to|if|will|would|should"
    r"|must|needs?|waiting)\b|n't\b)[^.!?;])"
)
#: Not right after a negator ("not helpful", "wasn't very good", "haven't fixed the issue").
_NOT_NEGATED = "".join(
    f"(?<!{w} )"
    for w in (r"\bnot", "n't", r"\bnever", r"\bno", r"\bnot very", "n't very", r"\bnot so",
              "n't so", r"\bnot too", "n't too", r"\byet", r"\bto")
)  # fmt: skip


def _unnegated(words: str) -> str:
    """Where one of ``words`` starts, not right after a negator.

    The word is looked for first: the look-behinds then run at a few places, not at every
    word boundary (about 8x faster; a cue is a presence test, so nothing is consumed).
    """
    return rf"\b(?=(?:{words})\b){_NOT_NEGATED}"


def _any_word(words: Sequence[str]) -> str:
    """A regex of any of ``words`` written as a prefix tree (``perfect(?:ly)?``).

    ``re`` tries the branches of an alternation one by one; shared prefixes read once make
    the praise and blame cues twice as fast.
    """
    tree: dict = {}
    for word in words:
        node = tree
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict) -> str:
        alts = [re.escape(ch) + emit(child) for ch, child in node.items() if ch]
        body = alts[0] if len(alts) == 1 else f"(?:{'|'.join(alts)})"
        return "" if not alts else f"(?:{body})?" if "" in node else body

    return emit(tree)


#: General words of praise and of blame (the "praise" / "blame" cues).
PRAISE_WORDS = (
    "good", "great", "excellent", "brilliant", "fantastic", "amazing", "awesome", "superb",
    "outstanding", "perfect", "perfectly", "wonderful", "lovely", "love", "loved", "happy",
    "pleased", "satisfied", "delighted", "impressed", "helpful", "friendly", "polite", "courteous",
    "professional", "efficient", "efficiently", "quick", "quickly", "fast", "prompt", "promptly",
    "easy", "easily", "simple", "smooth", "smoothly", "straightforward", "seamless", "painless",
    "reliable", "recommend", "recommended", "thanks", "best", "nice", "knowledgeable", "patient",
    "informative", "exceptional", "thank you", "spot on", "first class", "top notch",
)  # fmt: skip
BLAME_WORDS = (
    "bad", "poor", "poorly", "terrible", "awful", "horrible", "dreadful", "appalling",
    "disgusting", "useless", "rubbish", "worst", "rude", "unhelpful", "disappointed",
    "disappointing", "disappointment", "frustrated", "frustrating", "annoyed", "annoying", "angry",
    "upset", "unhappy", "waste", "wasted", "broken", "overcharged", "hate", "hated", "shocking",
    "ridiculous", "nightmare", "incompetent", "unacceptable", "pathetic", "slow", "disgraceful",
    "misleading", "ignored",
)  # fmt: skip


#: Cheap lexical cues read beside the vector (``SentimentClassifier(text_cues=True)``).
#: Mean-pooled MiniLM vectors put "no problems" next to "problems", a question next to a
#: complaint, and a praised call or a solved problem next to the banking complaints of the
#: training pool: these cues carry what the vector blurs (figures in the model card).
TEXT_CUES: dict[str, re.Pattern[str]] = {
    "question": re.compile(r"\?"),
    "exclaim": re.compile(r"!"),
    "negated_problem": re.compile(
        rf"\b(?:no|never|not|zero|without|any|n't)\b(?:\W+\w+){{0,3}}?\W+{_PROBLEM}\b"
        r"|\bnot (?:bad|too bad|a problem|an issue)\b|\bno (?:problems?|issues?|complaints?)\b"
        r"|\b(?:can'?t|cannot|can not|couldn'?t|could not) (?:fault|complain)\b|\bfaultless\b"
        r"|\b(?:hassle|trouble|problem|worry|stress|fuss)[- ]free\b"
        # resolved: "the problem was solved", "sorted out the issue"
        rf"|\b{_PROBLEM}\b{_NO_NEGATOR}{{0,40}}?\b(?:solved|resolved|sorted|fixed|rectified"
        r"|dealt with|taken care of)\b"
        rf"|{_unnegated('solved|resolved|sorted|fixed|rectified')}\w+(?: out)?"
        rf"\s+(?:\w+\s+){{0,2}}?{_PROBLEM}\b",
        re.I,
    ),
    "negation": re.compile(
        r"\b(?:not|no|never|nobody|nothing|none|neither|nor|cannot)\b|n't\b", re.I
    ),
    # "Does the app work abroad" asks; "Does everything I need" answers: an auxiliary opens a
    # question only before its subject.
    "request": re.compile(
        r"^\W*(?:please|pls|can (?:you|i|we)|could (?:you|i)|would you|how (?:do|can|long|much)"
        r"|where|when|what|which|who|why|is there|are there|do you|i need|i want"
        r"|(?:does|will) (?:i|you|we|it|he|she|they|this|that|there|the|my|your|our|a|an|any"
        r"|anyone|someone)|i would like|i'd like|any (?:update|news|info))\b",
        re.I,
    ),
    "mild": re.compile(
        r"\b(?:fine|ok|okay|alright|decent|adequate|acceptable|as expected)\b", re.I
    ),
    # General words of praise and blame, not negated: the vector alone reads "my call was dealt
    # with very well" like the complaints it was trained on.
    "praise": re.compile(
        _unnegated(_any_word(PRAISE_WORDS))
        + r"|\b(?:very|really|so|extremely|exceptionally) well\b",
        re.I,
    ),
    "blame": re.compile(_unnegated(_any_word(BLAME_WORDS)), re.I),
}


#: The same cues for ASCII text once lower-cased: exactly the same matches, and Python's
#: ``re`` finds them about twice as fast without ``re.I``.
_LOWER_CUES = [re.compile(p.pattern, p.flags & ~re.I) for p in TEXT_CUES.values()]
_NEGATION = list(TEXT_CUES).index("negation")


def text_cues(texts: Sequence[str]) -> np.ndarray:
    """Lexical cue matrix of shape (n_texts, len(TEXT_CUES)), values in [0, 1].

    Binary presence of each cue in :data:`TEXT_CUES`, except ``negation``, which counts
    negators up to three (scaled to 1). ``@handles`` are dropped first, as for the encoder,
    so that "@shop can you ..." still reads as a request.
    """
    from .encode import encoder_text

    rows = []
    case_blind = list(TEXT_CUES.values())
    for raw in texts:
        t = encoder_text(str(raw))
        patterns = case_blind
        if t.isascii():
            t, patterns = t.lower(), _LOWER_CUES
        rows.append([min(len(p.findall(t)), 3) / 3 if j == _NEGATION else float(bool(p.search(t)))
                     for j, p in enumerate(patterns)])  # fmt: skip
    return np.array(rows, np.float32).reshape(len(rows), len(TEXT_CUES))


def head_proba(head: Any, X: np.ndarray, texts: Sequence[str]) -> np.ndarray:
    """``head.predict_proba(X)``, passing ``texts`` along when the head reads text cues.

    Lets the pipeline take any injected estimator with ``predict_proba(X)`` while the shipped
    head also sees the texts its vectors came from.
    """
    if getattr(head, "text_cues", False):
        return head.predict_proba(X, texts=texts)
    return head.predict_proba(X)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _fit_temperature(logits: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None) -> float:
    """Temperature ``T`` minimising the (weighted) negative log-likelihood of ``softmax(z / T)``."""
    from scipy.optimize import minimize_scalar

    w = np.ones(len(y)) if weight is None else np.asarray(weight, float)

    def nll(log_t: float) -> float:
        z = logits / np.exp(log_t)
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return float(-(w * logp[np.arange(len(y)), y]).sum() / w.sum())

    res = minimize_scalar(nll, bounds=(-3.0, 3.0), method="bounded")
    return float(np.exp(res.x))


class SentimentClassifier(ClassifierMixin, BaseEstimator):
    """Calibrated sentiment head on sentence embeddings (scikit-learn estimator).

    Parameters
    ----------
    C : float
        Inverse L2 regularisation strength of the logistic regression.
    class_weight : "balanced", dict or None
        Class weights for fitting; ``"balanced"`` gives every class the same total weight,
        so the (review-heavy) training mix does not decide the prior.
    calibration_fraction : float
        Share of the training rows held out (stratified) to fit the temperature. The head is
        fitted on the rest. ``0`` disables calibration (temperature 1).
    mixed_threshold : float
        A document is ``mixed`` when one sentence has ``p(positive) >= mixed_threshold`` and
        another has ``p(negative) >= mixed_threshold`` (see :func:`document_sentiment`).
    encoder_model : str
        Encoder the head was trained on (short name, recorded in the artifact).
    max_iter : int
        Iterations of the L-BFGS solver.
    random_state : int
        Seed of the calibration split.
    text_cues : bool
        Also read the lexical cues of :func:`text_cues` from the texts (passed as ``texts=``
        to ``fit`` / ``predict*``): one small extra weight matrix, no second encoder pass.

    Attributes
    ----------
    classes_ : ndarray of str
        ``["negative", "neutral", "positive"]`` for the shipped model.
    coef_ : ndarray of shape (n_classes, n_features)
    intercept_ : ndarray of shape (n_classes,)
    cue_coef_ : ndarray of shape (n_classes, n_cues)
        Weights of the text cues (``n_cues`` is 0 when ``text_cues`` is off).
    temperature_ : float
        Logits are divided by this before the softmax.
    encoder_model_id_ : str or None
        Exact encoder id (name and wheel version) recorded by :func:`train_sentiment`.
    model_id_ : str
        After :meth:`load` only: ``<folder>@<short hash>`` of the verified files, which the
        run manifest names the head by.

    Examples
    --------
    >>> from cxnlp.encode import Encoder  # doctest: +SKIP
    >>> clf = load_sentiment()  # doctest: +SKIP
    >>> clf.predict(Encoder().encode(["The staff were lovely"]))  # doctest: +SKIP
    array(['positive'], dtype=object)
    """

    def __init__(
        self,
        C: float = 1.0,
        class_weight: str | dict | None = "balanced",
        calibration_fraction: float = 0.15,
        mixed_threshold: float = 0.6,
        encoder_model: str = "all-MiniLM-L6-v2",
        max_iter: int = 2000,
        random_state: int = 0,
        text_cues: bool = False,
    ) -> None:
        self.C = C
        self.class_weight = class_weight
        self.calibration_fraction = calibration_fraction
        self.mixed_threshold = mixed_threshold
        self.encoder_model = encoder_model
        self.max_iter = max_iter
        self.random_state = random_state
        self.text_cues = text_cues

    # ------------------------------------------------------------------ fit / predict
    def _validate_params(self) -> None:
        if not (isinstance(self.C, int | float) and self.C > 0):
            raise ValueError(f"C must be a positive number, got {self.C!r}")
        if not 0 <= self.calibration_fraction < 1:
            raise ValueError(
                f"calibration_fraction must be in [0, 1), got {self.calibration_fraction!r}"
            )
        if not 0.5 <= self.mixed_threshold <= 1:
            raise ValueError(f"mixed_threshold must be in [0.5, 1], got {self.mixed_threshold!r}")

    def _with_cues(self, X: np.ndarray, texts: Sequence[str] | None) -> np.ndarray:
        if not self.text_cues:
            return X
        if texts is None or len(texts) != len(X):
            raise ValueError(
                "This sentiment head reads text cues besides the vectors: pass texts=[...] "
                f"with one text per row of X ({len(X)} rows)."
            )
        return np.hstack([X, text_cues(texts).astype(X.dtype)])

    def fit(
        self, X: Any, y: Any, sample_weight: Any = None, texts: Sequence[str] | None = None
    ) -> SentimentClassifier:
        """Fit the logistic head, then the temperature on a stratified held-out part.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Embeddings (the shared encoder's vectors).
        y : array-like of shape (n_samples,)
            Labels; the shipped model uses ``negative`` / ``neutral`` / ``positive``.
        sample_weight : array-like of shape (n_samples,), optional
            Per-row weights, multiplied with ``class_weight``.
        texts : sequence of str, optional
            The texts of the rows; required when ``text_cues`` is on.
        """
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import train_test_split
        from sklearn.utils.multiclass import check_classification_targets

        self._validate_params()
        X, y = validate_data(self, X, y, dtype=np.float64)
        n_vec = X.shape[1]
        X = self._with_cues(X, texts)
        check_classification_targets(y)
        classes, y_idx = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(f"Need samples of at least 2 classes to fit; got 1 class: {classes!r}")
        sw = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, float)
        if sw.shape != (len(y),):
            raise ValueError(f"sample_weight has shape {sw.shape}, expected ({len(y)},)")

        idx = np.arange(len(y))
        counts = np.bincount(y_idx)
        n_cal = int(round(self.calibration_fraction * len(y)))
        calibrate = n_cal >= 2 * len(classes) and counts.min() >= 4
        if calibrate:
            fit_idx, cal_idx = train_test_split(
                idx, test_size=n_cal, stratify=y_idx, random_state=self.random_state
            )
        else:
            fit_idx, cal_idx = idx, idx[:0]

        lr = LogisticRegression(
            C=self.C, class_weight=self.class_weight, max_iter=self.max_iter, tol=1e-6
        )
        lr.fit(X[fit_idx], y_idx[fit_idx], sample_weight=sw[fit_idx])
        coef, intercept = lr.coef_, lr.intercept_
        if len(lr.classes_) == 2:  # sigmoid == softmax over logits (0, z)
            coef = np.vstack([np.zeros_like(coef), coef])
            intercept = np.concatenate([[0.0], intercept])
        full_coef = np.zeros((len(classes), X.shape[1]))
        full_int = np.full(len(classes), -1e4)  # a class absent from the fit part: never
        full_coef[lr.classes_] = coef
        full_int[lr.classes_] = intercept

        self.classes_ = classes
        self.coef_ = full_coef[:, :n_vec].astype(np.float32)
        self.cue_coef_ = full_coef[:, n_vec:].astype(np.float32)
        self.intercept_ = full_int.astype(np.float32)
        self.temperature_ = 1.0
        if calibrate:
            cw = self._class_weights(y_idx, len(classes))
            self.temperature_ = _fit_temperature(
                self._logits(X[cal_idx]), y_idx[cal_idx], sw[cal_idx] * cw[y_idx[cal_idx]]
            )
        self.n_calibration_ = len(cal_idx)
        self.n_iter_ = np.atleast_1d(lr.n_iter_)
        self.encoder_model_id_ = getattr(self, "encoder_model_id_", None)
        return self

    def _class_weights(self, y_idx: np.ndarray, k: int) -> np.ndarray:
        if self.class_weight == "balanced":
            counts = np.bincount(y_idx, minlength=k).astype(float)
            return len(y_idx) / (k * counts.clip(1))
        if isinstance(self.class_weight, dict):
            return np.array([self.class_weight.get(c, 1.0) for c in self.classes_], float)
        return np.ones(k)

    def _logits(self, X: np.ndarray) -> np.ndarray:
        """Logits of vectors, with their text cues appended when the head reads them."""
        W = np.hstack([self.coef_, getattr(self, "cue_coef_", self.coef_[:, :0])])
        return row_dot(np.asarray(X, np.float32), W) + self.intercept_

    def _scaled_logits(self, X: Any, texts: Sequence[str] | None = None) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float32)
        return self._logits(self._with_cues(X, texts)) / self.temperature_

    def decision_function(self, X: Any, texts: Sequence[str] | None = None) -> np.ndarray:
        """Temperature-scaled logits, shape (n_samples, n_classes); (n_samples,) if binary."""
        z = self._scaled_logits(X, texts)
        return z[:, 1] - z[:, 0] if z.shape[1] == 2 else z

    def predict_proba(self, X: Any, texts: Sequence[str] | None = None) -> np.ndarray:
        """Calibrated class probabilities, columns in the order of ``classes_``.

        ``texts`` (one per row of ``X``) is required when the head reads ``text_cues``.
        """
        return _softmax(self._scaled_logits(X, texts).astype(np.float64))

    def predict(self, X: Any, texts: Sequence[str] | None = None) -> np.ndarray:
        """Most probable class of each row (``texts`` as in :meth:`predict_proba`)."""
        z = self._scaled_logits(X, texts)
        return self.classes_[np.argmax(z, axis=1)]

    # ------------------------------------------------------------------ documents
    def predict_documents(self, emb: DocumentEmbeddings) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Document and sentence sentiment from one :func:`cxnlp.encode.embed_documents` pass.

        Returns
        -------
        docs : DataFrame
            One row per document: ``sentiment`` (negative/neutral/positive/mixed, ``None``
            for a document without any sentence) and ``p_<class>`` columns (NaN when empty).
        sentences : DataFrame
            ``emb.sentences`` plus ``sentiment`` and ``p_<class>`` columns.
        """
        n_docs = len(emb.docs)
        sent = emb.sentences.copy()
        sp = (
            self.predict_proba(emb.sentence_vectors, texts=sent["text"].tolist())
            if len(sent)
            else np.zeros((0, len(self.classes_)))
        )
        dp = (
            self.predict_proba(emb.docs, texts=document_texts(sent, n_docs))
            if n_docs
            else np.zeros((0, len(self.classes_)))
        )
        labels = document_sentiment(
            dp,
            sp,
            sent["doc"].to_numpy(),
            n_docs,
            classes=self.classes_,
            threshold=self.mixed_threshold,
        )
        has = np.bincount(sent["doc"].to_numpy(), minlength=n_docs) > 0 if n_docs else []
        docs = pd.DataFrame({"sentiment": labels})
        for j, c in enumerate(self.classes_):
            docs[f"p_{c}"] = np.where(has, dp[:, j], np.nan)
            sent[f"p_{c}"] = sp[:, j]
        sent["sentiment"] = self.classes_[sp.argmax(axis=1)] if len(sent) else []
        return docs, sent

    def check_encoder(self, encoder: Encoder) -> None:
        """Raise :class:`ModelError` if ``encoder`` is not the one this head was trained on."""
        if encoder.model != self.encoder_model:
            raise ModelError(
                f"The sentiment model was trained on encoder '{self.encoder_model}' but the run "
                f"uses '{encoder.model}'. Use encoder.model: {self.encoder_model} or retrain with "
                "`cxnlp train sentiment`."
            )

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path, card: str | None = None) -> Path:
        """Write ``sentiment.safetensors`` + ``config.json`` + ``MODEL_CARD.md`` into ``path``.

        Parameters
        ----------
        path : path
            Folder (created if needed).
        card : str, optional
            Markdown body of the model card; the ``sha256`` block is appended either way.
        """
        from safetensors.numpy import save_file

        check_is_fitted(self, "coef_")
        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        tensors = {"coef": np.ascontiguousarray(self.coef_), "intercept": self.intercept_}
        if self.text_cues:
            tensors["cue_coef"] = np.ascontiguousarray(self.cue_coef_)
        save_file(
            tensors,
            str(out / WEIGHTS_FILE),
            metadata={"format": f"cxnlp-sentiment-v{FORMAT_VERSION}"},  # one key: stable bytes
        )
        (out / WEIGHTS_FILE).chmod(0o644)  # safetensors writes 0600; artifacts are shared
        config = {
            "format_version": FORMAT_VERSION,
            "classes": [str(c) for c in self.classes_],
            "temperature": self.temperature_,
            "encoder_model": self.encoder_model,
            "encoder_model_id": self.encoder_model_id_,
            "n_features_in": int(self.n_features_in_),
            "text_cues": list(TEXT_CUES) if self.text_cues else [],
            "params": self.get_params(),
        }
        (out / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        body = card if card is not None else "# Sentiment model\n"
        write_card(out, body, (WEIGHTS_FILE, CONFIG_FILE))
        return out

    @classmethod
    def load(cls, path: str | Path) -> SentimentClassifier:
        """Load a model saved by :meth:`save`, checking every file against the card's SHA-256.

        Raises
        ------
        ModelError
            A file is missing, its hash differs from the model card, or the config is invalid.
        """
        from safetensors.numpy import load_file

        folder = Path(path)
        model_id = verify_checksums(folder, (WEIGHTS_FILE, CONFIG_FILE), "sentiment model", _FIX)
        try:
            config = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
            tensors = load_file(str(folder / WEIGHTS_FILE))
            params = config["params"]
            model = cls(**params)
            model.classes_ = np.asarray(config["classes"], dtype=object)
            model.coef_ = tensors["coef"].astype(np.float32)
            model.intercept_ = tensors["intercept"].astype(np.float32)
            model.cue_coef_ = _cue_coef(config, tensors, len(model.classes_), model.text_cues)
            model.temperature_ = float(config["temperature"])
            model.encoder_model_id_ = config.get("encoder_model_id")
            model.n_features_in_ = int(config["n_features_in"])
            model.model_id_ = model_id  # names this head in the run manifest
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"Sentiment model in {folder} has an invalid config: {exc}") from exc
        if model.coef_.shape != (len(model.classes_), model.n_features_in_):
            raise ModelError(
                f"Sentiment weights in {folder} have shape {model.coef_.shape}, expected "
                f"({len(model.classes_)}, {model.n_features_in_})."
            )
        return model


def _cue_coef(config: dict, tensors: dict, n_classes: int, on: bool) -> np.ndarray:
    """Cue weights of a saved head, checked against this version's :data:`TEXT_CUES`."""
    cues = config.get("text_cues", [])
    if cues != (list(TEXT_CUES) if on else []):
        raise ValueError(f"text cues {cues} differ from this cxnlp's {list(TEXT_CUES)}")
    coef = tensors.get("cue_coef", np.zeros((n_classes, 0), np.float32)).astype(np.float32)
    if coef.shape != (n_classes, len(cues)):
        raise ValueError(f"cue_coef has shape {coef.shape}, expected ({n_classes}, {len(cues)})")
    return coef


def document_texts(sentences: pd.DataFrame, n_docs: int) -> list[str]:
    """Each document's sentences joined by a space (what its text cues are read from)."""
    joined = sentences.groupby("doc")["text"].agg(" ".join) if len(sentences) else pd.Series()
    return [str(joined.get(i, "")) for i in range(n_docs)]


def load_sentiment(path: str | Path | None = None) -> SentimentClassifier:
    """Load a sentiment model; by default the shipped one in ``models_dir() / "sentiment"``."""
    return SentimentClassifier.load(Path(path) if path is not None else models_dir() / "sentiment")


def document_sentiment(
    doc_proba: np.ndarray,
    sentence_proba: np.ndarray,
    sentence_doc: Sequence[int] | np.ndarray,
    n_docs: int,
    *,
    classes: Sequence[str] = CLASSES,
    threshold: float = 0.6,
    balance: float = 1 / 3,
) -> np.ndarray:
    """One label per document: negative / neutral / positive / mixed, or ``None`` if empty.

    A document is ``mixed`` when at least one of its sentences has
    ``p(positive) >= threshold``, another has ``p(negative) >= threshold``, and the smaller
    side carries at least ``balance`` of the document's summed positive + negative
    probability (one grumble in a five-sentence rave stays positive; on clothing-review
    train data this cut 5-star "mixed" from 45 % to 16 % while 3-star stays at 50 %).
    Otherwise it takes the arg-max of its own (document-vector) probabilities. A document
    with no sentence gets ``None`` (the pipeline gives it a status).

    Parameters
    ----------
    doc_proba : ndarray of shape (n_docs, n_classes)
        Probabilities of the document vectors.
    sentence_proba : ndarray of shape (n_sentences, n_classes)
        Probabilities of the sentence vectors.
    sentence_doc : array of int, shape (n_sentences,)
        Document index (0 .. n_docs-1) of each sentence.
    n_docs : int
        Number of documents.
    classes : sequence of str
        Column names of the probability arrays; must contain ``positive`` and ``negative``.
    threshold : float
        Confidence a sentence needs to count as positive or negative for ``mixed``
        (``>= 0.5``, so one sentence can never count as both).
    balance : float
        Share of the positive + negative probability mass the weaker side needs for
        ``mixed``.

    Returns
    -------
    ndarray of object, shape (n_docs,)

    Examples
    --------
    >>> import numpy as np
    >>> doc = np.array([[0.5, 0.1, 0.4], [0.1, 0.8, 0.1]])
    >>> sent = np.array([[0.9, 0.05, 0.05], [0.05, 0.05, 0.9]])
    >>> document_sentiment(doc, sent, [0, 0], 3).tolist()
    ['mixed', 'neutral', None]
    """
    classes = [str(c) for c in classes]
    doc_proba = np.asarray(doc_proba, float).reshape(n_docs, len(classes))
    sentence_proba = np.asarray(sentence_proba, float).reshape(-1, len(classes))
    sentence_doc = np.asarray(sentence_doc, dtype=np.int64)
    if len(sentence_doc) != len(sentence_proba):
        raise ValueError(
            f"sentence_doc has {len(sentence_doc)} entries but sentence_proba has "
            f"{len(sentence_proba)} rows"
        )
    if len(sentence_doc) and (sentence_doc.min() < 0 or sentence_doc.max() >= n_docs):
        raise ValueError(f"sentence_doc must index documents 0..{n_docs - 1}")
    ipos, ineg = classes.index("positive"), classes.index("negative")
    n_sent = np.bincount(sentence_doc, minlength=n_docs)
    has_pos = (
        np.bincount(sentence_doc, weights=sentence_proba[:, ipos] >= threshold, minlength=n_docs)
        > 0
    )
    has_neg = (
        np.bincount(sentence_doc, weights=sentence_proba[:, ineg] >= threshold, minlength=n_docs)
        > 0
    )
    labels = (
        np.asarray(classes, dtype=object)[doc_proba.argmax(axis=1)]
        if n_docs
        else (np.empty(0, dtype=object))
    )
    labels = labels.astype(object)
    pos_mass = np.bincount(sentence_doc, weights=sentence_proba[:, ipos], minlength=n_docs)
    neg_mass = np.bincount(sentence_doc, weights=sentence_proba[:, ineg], minlength=n_docs)
    minority = np.minimum(pos_mass, neg_mass) / np.maximum(pos_mass + neg_mass, 1e-12)
    labels[has_pos & has_neg & (minority >= balance)] = MIXED
    labels[n_sent == 0] = None
    return labels


def train_sentiment(
    out_dir: str | Path,
    data_dir: str | Path | None = None,
    encoder: Encoder | None = None,
    seed: int = 0,
    per_class: int = 1200,
) -> dict[str, Any]:
    """Train the shipped head on ship-safe data and save it to ``out_dir``.

    Thin re-export of :func:`cxnlp.training.sentiment.train_sentiment` (documented there),
    imported lazily so inference never loads the training code.
    """
    from .training.sentiment import train_sentiment as _train

    return _train(out_dir, data_dir=data_dir, encoder=encoder, seed=seed, per_class=per_class)
