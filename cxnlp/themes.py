"""Themes: codeframes (the team's taxonomy as YAML) and a multi-label classifier over them.

A :class:`Codeframe` lists themes with a stable ``id``, a ``label``, a one-line
``description`` in the customer's words, optional ``examples`` and ``keywords``, an optional
``parent`` (two levels) and the ``touchpoint`` / ``churn_reason`` each theme links to.

A :class:`CodeframeClassifier` scores every sentence against every theme on the shared
encoder's embeddings:

* **zero-shot**: cosine similarity to a prototype built from the theme's label, description
  and examples, turned into a confidence by a calibrated threshold (global, optionally per
  theme from a few labels) and a margin to the best theme; keyword hits add a boost;
* **supervised** (optional): :meth:`CodeframeClassifier.fit` trains one-vs-rest logistic
  regressions on ``[embedding, zero-shot similarities]`` (one multinomial regression when the
  themes are ``exclusive``, as churn reasons are), averaged with the same model on word
  n-grams of the text; their probabilities blend with the zero-shot confidence, weighted by
  how many labelled positives each theme had.

Sentence decisions are aggregated to one row per (response, theme) by
:meth:`CodeframeClassifier.mentions`, with the aspect sentiment of only the sentences that
mention the theme and the evidence span of the most confident one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import ConfigError, ModelError
from .linalg import row_dot
from .paths import configs_dir
from .results import MENTION_COLUMNS

_WORDS = re.compile(r"\w+")

__all__ = [
    "DEFAULT_CHURN_REASONS",
    "Codeframe",
    "CodeframeClassifier",
    "Theme",
    "theme_columns",
]

#: Churn reasons a codeframe links to when it does not list its own.
DEFAULT_CHURN_REASONS = [
    "price_value",
    "competitor",
    "poor_service",
    "product_quality",
    "missing_features",
    "billing_problems",
    "delivery_problems",
    "too_hard_to_use",
    "no_longer_needed",
    "other",
]

_ID = r"^[a-z0-9][a-z0-9_.-]*$"
#: Files of a saved head that its model card must list (``training.json`` is added, and
#: checked too, when ``cxnlp train`` wrote the head).
ARTIFACT_FILES = ("themes.safetensors", "themes.json")
_SENTIMENTS = np.array(["negative", "neutral", "positive"], dtype=object)


# --------------------------------------------------------------------------- codeframe


class Theme(BaseModel):
    """One theme of a codeframe."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=_ID, description="stable id: lower case, digits, '_', '-', '.'")
    label: str = Field(min_length=1)
    description: str = Field(min_length=1, description="one line, in the customer's words")
    examples: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    parent: str | None = None
    touchpoint: str | None = None
    churn_reason: str | None = None

    def phrases(self) -> list[str]:
        """Texts whose embeddings make this theme's zero-shot prototype."""
        return [self.label, self.description, *self.examples]


class Codeframe(BaseModel):
    """A validated codeframe.

    Load one with :meth:`load` (a shipped name such as ``"generic"`` or a path) or
    :meth:`from_yaml`; invalid files raise :class:`~cxnlp.errors.ConfigError` that names the
    file, the theme and every problem at once.

    Examples
    --------
    >>> cf = Codeframe.load("generic")
    >>> cf.theme("delivery_speed").label
    'Delivery speed'
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    version: str = "1"
    description: str | None = None
    touchpoints: list[str] | None = None
    churn_reasons: list[str] | None = None
    themes: list[Theme] = Field(min_length=1)

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, v: Any) -> Any:
        return str(v) if isinstance(v, (int, float)) else v

    # -- structure checks: all problems collected, reported together
    def problems(self) -> list[str]:
        """Cross-theme problems (duplicates, parents, links); empty when the codeframe is valid."""
        return [f"theme '{tid}': {msg}" for _, tid, _, msg in self._problems()]

    def _problems(self) -> list[tuple[int, str, str, str]]:
        """(position, theme id, field, problem): a file's errors name the very line at fault.

        Entries without an id are skipped (only :func:`_loose` makes them; their field errors
        say what is wrong), and so are empty labels.
        """
        out: list[tuple[int, str, str, str]] = []
        named = [(i, t) for i, t in enumerate(self.themes) if t.id]
        first: dict[str, int] = {}
        labels: dict[tuple[str | None, str], str] = {}  # "Other" may sit under two parents
        for i, t in named:
            j = first.setdefault(t.id, i)
            if j != i:  # reported at the repeat, the entry to rename
                out.append((i, t.id, "id", f"duplicate id (theme #{j + 1} has it too); ids must "
                                           "be unique"))  # fmt: skip
            other = labels.setdefault((t.parent, t.label.strip().lower()), t.id)
            if t.label.strip() and other != t.id:
                out.append((i, t.id, "label", f"same label as '{other}' ({t.label!r}) under the "
                                              "same parent; charts and tables show labels, so "
                                              "give each theme its own"))  # fmt: skip
        by_id = {t.id: t for _, t in reversed(named)}
        for i, t in named:
            if t.parent is not None:
                out += [(i, t.id, "parent", msg) for msg in _parent_problems(t, by_id)]
            links = (("touchpoint", "touchpoints", t.touchpoint, self.touchpoints),
                     ("churn_reason", "churn_reasons", t.churn_reason, self.churn_reasons))
            for field, lists, value, known in links:
                if known is not None and value is not None and value not in known:
                    out.append((i, t.id, field, f"unknown {field.replace('_', ' ')} '{value}' "
                                                f"({lists}: {', '.join(known)})"))  # fmt: skip
        out.sort(key=lambda p: p[0])
        return out

    # -- loading
    @classmethod
    def from_dict(cls, data: Any, source: str = "<codeframe>", root: Any = None) -> Codeframe:
        """Validate a parsed YAML mapping; ``source`` (and its node tree ``root``, for line
        numbers) names it in error messages.

        Field errors and cross-theme problems come in one report: the cross-theme checks also
        run on the entries as written when some fields are invalid.
        """
        if not isinstance(data, dict):
            raise ConfigError(
                f"Codeframe {source}: expected a mapping with 'name', 'version' and 'themes', "
                f"got {type(data).__name__}."
            )
        try:
            cf = cls.model_validate(data)
        except ValidationError as exc:
            lines = _validation_lines(exc, data, source, root)
            lines += _problem_lines(_loose(data), source, root)
            raise ConfigError(_report(source, lines)) from None
        if lines := _problem_lines(cf, source, root):
            raise ConfigError(_report(source, lines))
        return cf

    @classmethod
    def from_yaml(cls, path: str | Path) -> Codeframe:
        """Read and validate a codeframe YAML file."""
        from .config import read_yaml

        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"Codeframe file not found: {path}")
        data, root = read_yaml(path, "Codeframe")
        return cls.from_dict(data, source=str(path), root=root)

    @classmethod
    def load(cls, name_or_path: str | Path = "generic") -> Codeframe:
        """Load a shipped codeframe by name (``"generic"``, ``"airline"``...) or a YAML path."""
        p = Path(name_or_path)
        if p.suffix in {".yaml", ".yml"} or p.exists():
            return cls.from_yaml(p)
        shipped = configs_dir() / "codeframes" / f"{name_or_path}.yaml"
        if not shipped.exists():
            raise ConfigError(
                f"Unknown codeframe '{name_or_path}': not a file and not a shipped name "
                f"(shipped: {', '.join(cls.available())}). Pass a path to your YAML file."
            )
        return cls.from_yaml(shipped)

    @staticmethod
    def available() -> list[str]:
        """Names of the shipped codeframes."""
        return sorted(p.stem for p in (configs_dir() / "codeframes").glob("*.yaml"))

    def to_yaml(self, path: str | Path | None = None) -> str:
        """YAML text of this codeframe (written to ``path`` when given)."""
        text = yaml.safe_dump(
            self.model_dump(exclude_none=True, exclude_defaults=False),
            sort_keys=False,
            allow_unicode=True,
            width=100,
        )
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    # -- access
    @property
    def ids(self) -> list[str]:
        """Theme ids in file order (the column order of every score matrix)."""
        return [t.id for t in self.themes]

    def theme(self, theme_id: str) -> Theme:
        """The theme with this id."""
        for t in self.themes:
            if t.id == theme_id:
                return t
        raise KeyError(
            f"No theme '{theme_id}' in codeframe '{self.name}' ({_short_list(self.ids)})"
        )

    def children(self, theme_id: str) -> list[str]:
        """Ids of the themes whose parent is ``theme_id``."""
        return [t.id for t in self.themes if t.parent == theme_id]


def _parent_problems(t: Theme, by_id: dict[str, Theme]) -> list[str]:
    """What is wrong with a theme's ``parent``: itself, unknown, or a third level."""
    if t.parent == t.id:
        return ["parent is the theme itself"]
    if t.parent not in by_id:
        return [f"unknown parent '{t.parent}' (known ids: {_short_list(by_id)})"]
    grand = by_id[t.parent].parent
    if grand is not None:
        return [f"parent '{t.parent}' is itself a child of '{grand}'; codeframes have two "
                f"levels at most (point '{t.id}' at a top-level theme)"]  # fmt: skip
    return []


def _short_list(items: Sequence[str] | dict, n: int = 8) -> str:
    items = list(items)
    more = f", ... ({len(items) - n} more)" if len(items) > n else ""
    return ", ".join(items[:n]) + more


def _at(source: str, root: Any, loc: tuple[Any, ...], text: str) -> tuple[int, str]:
    """(line, ``"file:line: text"``) of the YAML node at ``loc``; line 0 and ``text`` alone
    when the file's node tree is not known."""
    from .config import _line_of

    line = _line_of(root, loc) if root is not None else None
    return (line, f"{source}:{line}: {text}") if line else (0, text)


#: What a theme id may be, in words (pydantic only shows the pattern).
_ID_RULE = (
    "ids are lower-case ASCII letters, digits, '_', '-' and '.', starting with a letter or "
    "digit (e.g. 'late_delivery')"
)


def _not_text(got: Any, msg: str) -> str:
    """Why YAML handed over something else than text: unquoted yes/no, numbers, nothing."""
    if got is None:
        return "an empty entry: give it a value or delete it"
    if isinstance(got, bool):
        return ("YAML reads an unquoted yes, no, on, off, true or false as a boolean, not text: "
                "put the word in quotes ('yes')")
    if isinstance(got, (int, float)):
        return f"YAML reads {got!r} as a number, not text: put it in quotes ('{got}')"
    return f"{msg} (got {got!r})"


def _validation_lines(
    exc: ValidationError, data: dict, source: str, root: Any = None
) -> list[tuple[int, str]]:
    """Pydantic errors as (line, text) that name the theme id rather than an index."""
    themes = data.get("themes") if isinstance(data.get("themes"), list) else []
    lines = []
    for err in exc.errors():
        loc = list(err["loc"])
        where = "codeframe"
        if len(loc) >= 2 and loc[0] == "themes" and isinstance(loc[1], int):
            raw = themes[loc[1]] if loc[1] < len(themes) else None
            tid = raw.get("id") if isinstance(raw, dict) else None
            where = f"theme '{tid}'" if tid else f"theme #{loc[1] + 1} (no id)"
            loc = loc[2:]
        field = ".".join(str(x) for x in loc) or "(whole entry)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown field (check the spelling)"
        elif err["type"] == "string_pattern_mismatch" and field == "id":
            msg = f"{err.get('input')!r} is not a valid id: {_ID_RULE}"
        elif err["type"] == "string_type":
            msg = _not_text(err.get("input"), msg)
        lines.append(_at(source, root, tuple(err["loc"]), f"{where}: {field}: {msg}"))
    return lines


def _problem_lines(cf: Codeframe, source: str, root: Any = None) -> list[tuple[int, str]]:
    """Cross-theme problems as (line, text), each at the line of the field at fault."""
    return [_at(source, root, ("themes", i, field), f"theme '{tid}': {msg}")
            for i, tid, field, msg in cf._problems()]  # fmt: skip


def _report(source: str, lines: list[tuple[int, str]]) -> str:
    """Every problem in one message, in the order of the file."""
    body = "\n  - ".join(text for _, text in sorted(lines, key=lambda x: x[0]))
    return f"Codeframe {source} has {len(lines)} problem(s):\n  - {body}"


def _loose(data: dict) -> Codeframe:
    """The codeframe as written, unvalidated, for the cross-theme checks when fields failed.

    Values of the wrong type count as absent and an entry without a text id gets an empty
    one (skipped by :meth:`Codeframe._problems`), so positions stay those of the file.
    """

    def text(value: Any) -> str | None:
        return value if isinstance(value, str) else None

    def names(value: Any) -> list[str] | None:
        return [str(v) for v in value] if isinstance(value, list) else None

    raw = data.get("themes") if isinstance(data.get("themes"), list) else []
    themes = []
    for entry in raw:
        entry = entry if isinstance(entry, dict) else {}
        themes.append(Theme.model_construct(
            id=text(entry.get("id")) or "", label=text(entry.get("label")) or "",
            parent=text(entry.get("parent")), touchpoint=text(entry.get("touchpoint")),
            churn_reason=text(entry.get("churn_reason"))))  # fmt: skip
    return Codeframe.model_construct(themes=themes, touchpoints=names(data.get("touchpoints")),
                                     churn_reasons=names(data.get("churn_reasons")))  # fmt: skip


# --------------------------------------------------------------------------- classifier


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _train_softmax(
    M: Any, Yb: np.ndarray, C: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """One multinomial regression over the themes and "none" (last row), balanced classes.

    An example with several themes (the same text coded twice) counts 1/n toward each of its
    n themes. Classes absent from ``Yb`` keep a zero row and a very low intercept, so their
    probability is ~0 and the zero-shot score decides for them.
    """
    from sklearn.linear_model import LogisticRegression

    k = Yb.shape[1]
    rows, y = np.nonzero(np.hstack([Yb, ~Yb.any(axis=1, keepdims=True)]))  # row-major order
    weight = 1.0 / np.bincount(rows, minlength=len(Yb))[rows]
    coef = np.zeros((k + 1, M.shape[1]), np.float32)
    icpt = np.full(k + 1, -30.0, np.float32)
    present = np.unique(y)
    if len(present) == 1:
        icpt[present[0]] = 0.0
        return coef, icpt
    lr = LogisticRegression(C=C, max_iter=3000, class_weight="balanced", random_state=seed)
    lr.fit(M[rows], y, sample_weight=weight)
    if len(present) > 2:
        coef[present], icpt[present] = lr.coef_, lr.intercept_
    else:  # binary: sklearn keeps one row, for the second class against the first
        coef[present[1]], icpt[present[1]] = lr.coef_[0], lr.intercept_[0]
        icpt[present[0]] = 0.0
    return coef, icpt


def _rescale(p: np.ndarray, thr: np.ndarray) -> np.ndarray:
    """Map scores so that each theme's threshold lands on 0.5 (monotone, piecewise linear)."""
    thr = np.clip(thr, 1e-3, 1 - 1e-3)
    low = p / (2 * thr)
    high = 0.5 + 0.5 * (p - thr) / (1 - thr)
    return np.where(p < thr, low, high).clip(0.0, 1.0)


class CodeframeClassifier:
    """Multi-label theme classifier over a codeframe, zero-shot first, trainable.

    Parameters
    ----------
    codeframe : Codeframe or str, default "generic"
        The taxonomy (a :class:`Codeframe`, a shipped name or a YAML path).
    encoder : Encoder, optional
        The shared encoder (needed to embed theme descriptions; default ``Encoder()``).
    threshold : float
        Zero-shot cosine similarity at which a theme is 50 % likely (before calibration).
    temperature : float
        Width of the logistic that maps similarity to confidence.
    margin : float
        A theme is only kept when its similarity is within ``margin`` of the sentence's best
        theme (keeps unrelated themes from piggy-backing on a long sentence).
    keyword_boost : float
        Added to the similarity when one of the theme's keywords occurs in the sentence.
    max_themes : int or None
        Most themes kept per sentence.
    prefer_children : bool
        When a theme and its parent both match a sentence, keep only the child.
    C : float
        Inverse regularisation of the supervised logistic regressions.
    prior_strength : float
        Labelled positives at which trained and zero-shot scores weigh equally.
    ngram_weight : float
        Weight of a word n-gram (TF-IDF) logistic regression averaged with the embedding one
        in :meth:`fit` (0 turns it off). Needs ``texts`` in ``fit`` and at prediction time;
        without texts only the embedding model scores. The default 0.5 was chosen by
        cross-validation on train splits (SemEval-2014 categories, airline reasons).
    exclusive : bool
        The themes exclude each other (one per example or none, like churn reasons):
        :meth:`fit` trains one multinomial regression over the themes and "none" with balanced
        class weights instead of one-vs-rest regressions, so rare themes are not drowned by
        frequent ones when the best theme is picked (an example coded with n themes anyway
        counts 1/n toward each).
    random_state : int
        Seed of the internal cross-validation.

    Attributes
    ----------
    prototypes_ : ndarray (n_themes, dim)
        Normalised mean embedding of each theme's label, description and examples.
    thresholds_ : ndarray (n_themes,)
        Zero-shot similarity thresholds (``threshold`` until :meth:`calibrate`).
    coef_, intercept_ : ndarray
        Trained one-vs-rest logistic regressions (after :meth:`fit`).
    blend_ : ndarray (n_themes,)
        Weight of the trained score per theme (0 where no labels were seen).
    decision_thresholds_ : ndarray (n_themes,)
        Per-theme thresholds on the blended score, chosen by cross-validation in :meth:`fit`.
    model_id_ : str
        After :meth:`load` only: ``<folder>@<short hash>`` of the verified files, the name
        the run manifest gives the head.
    """

    def __init__(
        self,
        codeframe: Codeframe | str | Path = "generic",
        encoder: Any = None,
        threshold: float = 0.40,
        temperature: float = 0.05,
        margin: float = 0.12,
        keyword_boost: float = 0.10,
        max_themes: int | None = 3,
        prefer_children: bool = True,
        C: float = 4.0,
        prior_strength: float = 8.0,
        ngram_weight: float = 0.5,
        exclusive: bool = False,
        random_state: int = 0,
    ) -> None:
        self.codeframe = codeframe
        self.encoder = encoder
        self.threshold = threshold
        self.temperature = temperature
        self.margin = margin
        self.keyword_boost = keyword_boost
        self.max_themes = max_themes
        self.prefer_children = prefer_children
        self.C = C
        self.prior_strength = prior_strength
        self.ngram_weight = ngram_weight
        self.exclusive = exclusive
        self.random_state = random_state

    # -- setup
    @property
    def codeframe_(self) -> Codeframe:
        cf = self.codeframe
        if not isinstance(cf, Codeframe):
            cf = Codeframe.load(cf)
            self.codeframe = cf
        return cf

    @property
    def theme_ids_(self) -> list[str]:
        return self.codeframe_.ids

    def _encoder(self):
        if self.encoder is None:
            from .encode import Encoder

            self.encoder = Encoder()
        return self.encoder

    def _validate_params(self) -> None:
        if self.temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {self.temperature}")
        if self.margin < 0:
            raise ValueError(f"margin must be >= 0, got {self.margin}")
        if self.max_themes is not None and self.max_themes < 1:
            raise ValueError(f"max_themes must be >= 1 or None, got {self.max_themes}")

    def _ensure_prototypes(self) -> None:
        if hasattr(self, "prototypes_"):
            return
        self._validate_params()
        cf = self.codeframe_
        phrases = [t.phrases() for t in cf.themes]
        flat = [p for ps in phrases for p in ps]
        vecs = np.asarray(self._encoder().encode(flat), dtype=np.float32)
        protos = np.zeros((len(cf.themes), vecs.shape[1]), np.float32)
        i = 0
        for k, ps in enumerate(phrases):
            protos[k] = vecs[i : i + len(ps)].mean(axis=0)
            i += len(ps)
        protos /= np.linalg.norm(protos, axis=1, keepdims=True).clip(1e-12)
        self.prototypes_ = protos
        self.thresholds_ = np.full(len(cf.themes), self.threshold, np.float32)

    # -- scoring
    def similarities(self, X: np.ndarray, texts: Sequence[str] | None = None) -> np.ndarray:
        """Cosine similarity of each embedding to each theme prototype (+ keyword boost)."""
        self._ensure_prototypes()
        X = np.asarray(X, dtype=np.float32)
        sims = row_dot(X, self.prototypes_)
        if texts is not None and self.keyword_boost:
            sims += self.keyword_boost * self.keyword_hits(texts)
        return sims

    def keyword_hits(self, texts: Sequence[str]) -> np.ndarray:
        """Boolean (n, n_themes): which themes' keywords occur in each text (whole words).

        The same as searching each keyword case-insensitively with no letter or digit right
        before or after it (``\\b`` for plain words; ``c++`` and ``.net`` match too), 10x
        faster: one-word keywords are looked up in the set of the text's lower-cased words,
        and a phrase's own regex runs only when the text has the phrase's first word. A
        keyword without any letter or digit (an emoji) is found as written.
        """
        if not hasattr(self, "_keyword_words"):
            self._ensure_keywords()
        hits = np.zeros((len(texts), len(self.codeframe_.themes)), bool)
        for i, text in enumerate(texts):
            if not text:
                continue
            low = text.lower()
            for word in self._keyword_words.keys() & set(_WORDS.findall(low)):
                for k, rx in self._keyword_words[word]:
                    if rx is None or rx.search(text):
                        hits[i, k] = True
            for k, symbols in self._keyword_symbols:
                hits[i, k] |= symbols in low
        return hits

    def _ensure_keywords(self) -> None:
        index: dict[str, list[tuple[int, re.Pattern[str] | None]]] = {}
        symbols: list[tuple[int, str]] = []
        for k, theme in enumerate(self.codeframe_.themes):
            for kw in theme.keywords:
                words = _WORDS.findall(kw.lower())
                if not words:
                    if kw.strip():
                        symbols.append((k, kw.strip().lower()))
                    continue
                one = len(words) == 1 and words[0] == kw.lower()
                rx = None if one else re.compile(r"(?<!\w)" + re.escape(kw) + r"(?!\w)", re.I)
                index.setdefault(words[0], []).append((k, rx))
        self._keyword_words, self._keyword_symbols = index, symbols

    def _zero_shot(self, sims: np.ndarray) -> np.ndarray:
        conf = _sigmoid((sims - self.thresholds_) / self.temperature)
        best = sims.max(axis=1, keepdims=True)
        far = sims < best - self.margin
        return np.where(far, np.minimum(conf, 0.49), conf)

    def _features(self, X: np.ndarray, sims: np.ndarray) -> np.ndarray:
        return np.hstack([X, sims]).astype(np.float32)

    def decision_scores(self, X: np.ndarray, texts: Sequence[str] | None = None) -> np.ndarray:
        """Confidence in [0, 1] per (embedding, theme); a theme applies at >= 0.5."""
        X = np.asarray(X, dtype=np.float32)
        sims = self.similarities(X, texts)
        zs = self._zero_shot(sims)
        if not hasattr(self, "coef_"):
            return zs
        p = self._embedding_proba(X, sims)
        if texts is not None and getattr(self, "ngram_vocabulary_", None):
            T = self._ngram_vectorizer().transform(list(texts))
            pn = self._link(np.asarray(T @ self.ngram_coef_.T) + self.ngram_intercept_)
            p = (1 - self.ngram_weight) * p + self.ngram_weight * pn
        blended = self.blend_ * p + (1 - self.blend_) * zs
        return _rescale(blended, self.decision_thresholds_)

    def _embedding_proba(self, X: np.ndarray, sims: np.ndarray) -> np.ndarray:
        """The trained embedding model's theme probabilities (before n-grams and zero-shot)."""
        return self._link(row_dot(self._features(X, sims), self.coef_) + self.intercept_)

    def _link(self, z: np.ndarray) -> np.ndarray:
        """Theme probabilities from linear scores: per-theme sigmoids, or (``exclusive``) a
        softmax over the themes and "none" (the last column), "none" dropped."""
        if not self.exclusive:
            return _sigmoid(z)
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return (e / e.sum(axis=1, keepdims=True))[:, :-1]

    def predict(self, X: np.ndarray, texts: Sequence[str] | None = None) -> np.ndarray:
        """Boolean (n, n_themes) matrix of the themes each embedding mentions."""
        return self._select(self.decision_scores(X, texts))

    def _select(self, conf: np.ndarray) -> np.ndarray:
        keep = conf >= 0.5
        if self.prefer_children:
            ids = self.theme_ids_
            pos = {t: i for i, t in enumerate(ids)}
            for t in self.codeframe_.themes:
                if t.parent is not None:
                    j, k = pos[t.id], pos[t.parent]
                    keep[:, k] &= ~keep[:, j]
        if self.max_themes is not None and keep.shape[1] > self.max_themes:
            masked = np.where(keep, conf, -1.0)
            order = np.argsort(-masked, axis=1, kind="stable")[:, self.max_themes :]
            np.put_along_axis(keep, order, False, axis=1)
        return keep

    # -- learning from labels
    def _indicator(self, Y: Any, n: int) -> np.ndarray:
        ids = self.theme_ids_
        if isinstance(Y, np.ndarray) and Y.ndim == 2:
            if Y.shape != (n, len(ids)):
                raise ValueError(
                    f"Y has shape {Y.shape}; expected ({n}, {len(ids)}) in codeframe theme order"
                )
            return Y.astype(bool)
        pos = {t: i for i, t in enumerate(ids)}
        out = np.zeros((n, len(ids)), bool)
        if len(Y) != n:
            raise ValueError(f"Y has {len(Y)} label lists for {n} embeddings")
        for r, labels in enumerate(Y):
            labels = [labels] if isinstance(labels, str) else list(labels)
            unknown = [lab for lab in labels if lab not in pos]
            if unknown:
                raise ValueError(
                    f"labels {unknown} of example {r} are not theme ids of codeframe "
                    f"'{self.codeframe_.name}' ({_short_list(ids)})"
                )
            out[r, [pos[lab] for lab in labels]] = True
        return out

    def calibrate(
        self, X: np.ndarray, Y: Any, texts: Sequence[str] | None = None, min_positives: int = 5
    ) -> CodeframeClassifier:
        """Choose zero-shot similarity thresholds from a few labelled examples.

        A global threshold maximising micro-F1 is chosen first; themes with at least
        ``min_positives`` positives then get their own threshold, shrunk toward the global one.
        """
        X = np.asarray(X, dtype=np.float32)
        Yb = self._indicator(Y, len(X))
        sims = self.similarities(X, texts)
        grid = np.round(np.arange(0.15, 0.70, 0.01), 3)
        best_g, best_f = self.threshold, -1.0
        for g in grid:
            self.thresholds_ = np.full(Yb.shape[1], g, np.float32)
            f = _micro_f1(Yb, self._select(self._zero_shot(sims)))
            if f > best_f:
                best_g, best_f = g, f
        thr = np.full(Yb.shape[1], best_g, np.float32)
        for k in range(Yb.shape[1]):
            npos = int(Yb[:, k].sum())
            if npos < min_positives:
                continue
            fs = [_f1(Yb[:, k], sims[:, k] >= g) for g in grid]
            w = npos / (npos + self.prior_strength)
            thr[k] = w * grid[int(np.argmax(fs))] + (1 - w) * best_g
        self.thresholds_ = thr
        return self

    def fit(
        self, X: np.ndarray, Y: Any, texts: Sequence[str] | None = None, cv: int = 3
    ) -> CodeframeClassifier:
        """Train logistic regressions (one-vs-rest, or multinomial when ``exclusive``) from
        labelled embeddings and, when ``texts`` are given, from their word n-grams.

        Parameters
        ----------
        X : ndarray (n, dim)
            Sentence (or response) embeddings from the shared encoder.
        Y : ndarray (n, n_themes) of bool, or list of lists of theme ids
            The themes each example mentions (an empty list: none).
        texts : list of str, optional
            The texts, for keyword boosts and the n-gram model (``ngram_weight > 0``).
        cv : int
            Folds used to choose each theme's decision threshold (``0``: keep 0.5).
        """
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import KFold

        self._ensure_prototypes()
        X = np.asarray(X, dtype=np.float32)
        Yb = self._indicator(Y, len(X))
        if texts is not None:
            texts = list(texts)
        sims = self.similarities(X, texts)
        F = self._features(X, sims)
        zs = self._zero_shot(sims)
        k = Yb.shape[1]
        npos = Yb.sum(axis=0)
        trainable = (npos > 0) & (npos < len(X))

        T = None
        if self.ngram_weight > 0 and texts is not None:
            from sklearn.feature_extraction.text import TfidfVectorizer

            vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
            try:
                T = vec.fit_transform(texts)
            except ValueError:  # no word in two texts (a handful of examples): embeddings only
                T = None
        use_ngrams = T is not None

        def train(idx: np.ndarray, M: Any, C: float) -> tuple[np.ndarray, np.ndarray]:
            if self.exclusive:
                return _train_softmax(M[idx], Yb[idx], C, self.random_state)
            coef = np.zeros((k, M.shape[1]), np.float32)
            icpt = np.full(k, -10.0, np.float32)
            for j in np.flatnonzero(trainable):
                y = Yb[idx, j]
                if y.all() or not y.any():
                    icpt[j] = 10.0 if y.all() else -10.0
                    continue
                lr = LogisticRegression(C=C, max_iter=2000)
                lr.fit(M[idx], y)
                coef[j], icpt[j] = lr.coef_[0], lr.intercept_[0]
            return coef, icpt

        def proba(idx_tr: np.ndarray, idx_te: np.ndarray) -> np.ndarray:
            coef, icpt = train(idx_tr, F, self.C)
            p = self._link(F[idx_te] @ coef.T + icpt)
            if use_ngrams:
                ncoef, nicpt = train(idx_tr, T, 2.5 * self.C)
                pn = self._link(np.asarray(T[idx_te] @ ncoef.T) + nicpt)
                p = (1 - self.ngram_weight) * p + self.ngram_weight * pn
            return p

        blend = np.where(trainable, npos / (npos + self.prior_strength), 0.0).astype(np.float32)
        thresholds = np.full(k, 0.5, np.float32)
        if cv and len(X) >= 2 * cv:
            oof = np.zeros((len(X), k), np.float32)
            folds = KFold(cv, shuffle=True, random_state=self.random_state)
            for tr, te in folds.split(F):
                oof[te] = proba(tr, te)
            oof = blend * oof + (1 - blend) * zs
            grid = np.round(np.arange(0.1, 0.91, 0.025), 3)
            for j in np.flatnonzero(trainable):
                fs = [_f1(Yb[:, j], oof[:, j] >= g) for g in grid]
                thresholds[j] = grid[int(np.argmax(fs))]
        everything = np.arange(len(X))
        self.coef_, self.intercept_ = train(everything, F, self.C)
        if use_ngrams:
            self.ngram_coef_, self.ngram_intercept_ = train(everything, T, 2.5 * self.C)
            self.ngram_vocabulary_ = vec.get_feature_names_out().tolist()
            self.ngram_idf_ = vec.idf_.astype(np.float32)
        else:
            self.ngram_vocabulary_ = []
        self.blend_ = blend
        self.decision_thresholds_ = thresholds
        self.n_features_in_ = X.shape[1]
        return self

    def _ngram_vectorizer(self):
        if getattr(self, "_ngram_vec", None) is None:
            from sklearn.feature_extraction.text import TfidfVectorizer

            vec = TfidfVectorizer(
                ngram_range=(1, 2), sublinear_tf=True, vocabulary=self.ngram_vocabulary_
            )
            vec.idf_ = np.asarray(self.ngram_idf_, dtype=np.float64)
            self._ngram_vec = vec
        return self._ngram_vec

    # -- the pipeline's entry point
    def mentions(
        self,
        sentences: pd.DataFrame,
        sentence_vectors: np.ndarray,
        sentence_proba: np.ndarray | None = None,
    ) -> pd.DataFrame:
        """One row per (response, theme) with aspect sentiment and an evidence span.

        Parameters
        ----------
        sentences : DataFrame
            ``row_id`` (or ``doc``), ``sentence``, ``start``, ``end``, ``text``: one row per
            sentence, offsets into the response text.
        sentence_vectors : ndarray (n_sentences, dim)
            The shared encoder's sentence embeddings, aligned with ``sentences``.
        sentence_proba : ndarray (n_sentences, 3), optional
            Sentence sentiment probabilities (negative, neutral, positive). Without them,
            ``sentiment`` and ``sentiment_score`` are left empty, unless an aspect model is
            set (:meth:`use_aspect_model`), whose per-(sentence, theme) polarity then
            replaces the sentence sentiment.

        Returns
        -------
        DataFrame
            Columns :data:`cxnlp.results.MENTION_COLUMNS`, sorted by ``row_id`` then
            descending ``confidence``. ``confidence`` is the theme's best sentence score;
            ``sentiment`` / ``sentiment_score`` (mean ``p_positive - p_negative``) come from
            the sentences that mention the theme; ``start``/``end``/``evidence`` are the
            most confident sentence's span.
        """
        rid = "row_id" if "row_id" in sentences.columns else "doc"
        if rid not in sentences.columns:
            raise ValueError(f"sentences needs a 'row_id' column (got {list(sentences.columns)})")
        vecs = np.asarray(sentence_vectors, dtype=np.float32)
        if len(vecs) != len(sentences):
            raise ValueError(
                f"{len(sentences)} sentences but {len(vecs)} sentence vectors; they must align"
            )
        if sentence_proba is not None:
            sentence_proba = np.asarray(sentence_proba, dtype=np.float64)
            if sentence_proba.shape != (len(sentences), 3):
                raise ValueError(
                    f"sentence_proba has shape {sentence_proba.shape}; expected "
                    f"({len(sentences)}, 3) in the order negative, neutral, positive"
                )
        if len(sentences) == 0:
            return _empty_mentions()
        texts = sentences["text"].astype(str).tolist()
        conf = self.decision_scores(vecs, texts)
        keep = self._select(conf)
        s_idx, t_idx = np.nonzero(keep)
        if len(s_idx) == 0:
            return _empty_mentions()
        ids = np.array(self.theme_ids_, dtype=object)
        parents = np.array([t.parent for t in self.codeframe_.themes], dtype=object)
        hits = pd.DataFrame(
            {
                "row_id": sentences[rid].to_numpy()[s_idx],
                "t": t_idx,
                "s": s_idx,
                "confidence": conf[s_idx, t_idx],
            }
        )
        if sentence_proba is not None:
            for j, name in enumerate(("pn", "pu", "pp")):
                hits[name] = sentence_proba[s_idx, j]
        if getattr(self, "aspect_model_", None) is not None:
            hits[["pn", "pu", "pp"]] = self._aspect_proba(texts, s_idx, t_idx)
        # the best sentence per (row, theme): first after a stable sort by confidence
        hits = hits.sort_values(
            ["row_id", "t", "confidence", "s"],
            ascending=[True, True, False, True],
            kind="mergesort",
        )
        g = hits.groupby(["row_id", "t"], sort=False)
        best = g.head(1).set_index(["row_id", "t"])
        out = pd.DataFrame(
            {
                "row_id": best.index.get_level_values(0),
                "theme": ids[best.index.get_level_values(1)],
                # str even when every parent is None: chunks must agree on dtypes
                "parent": pd.array(parents[best.index.get_level_values(1)], dtype="str"),
                "confidence": best["confidence"].to_numpy().round(4),
            }
        )
        if "pn" in hits:
            mean = g[["pn", "pu", "pp"]].mean().loc[best.index].to_numpy()
            out["sentiment"] = _SENTIMENTS[mean.argmax(axis=1)]
            out["sentiment_score"] = (mean[:, 2] - mean[:, 0]).round(4)
        else:
            out["sentiment"] = None
            out["sentiment_score"] = np.nan
        s_best = best["s"].to_numpy()
        out["start"] = sentences["start"].to_numpy()[s_best].astype(int)
        out["end"] = sentences["end"].to_numpy()[s_best].astype(int)
        out["evidence"] = np.asarray(texts, dtype=object)[s_best]
        out = out.sort_values(
            ["row_id", "confidence", "theme"], ascending=[True, False, True], kind="mergesort"
        ).reset_index(drop=True)
        return out[MENTION_COLUMNS]

    # -- aspect sentiment from a fine-tuned (sentence, aspect) model (optional)
    def use_aspect_model(self, model: Any) -> CodeframeClassifier:
        """Take each mention's sentiment from a fine-tuned aspect model.

        Sentence sentiment says how a whole sentence feels; in "great food, rude staff" the
        staff mention is negative. With an aspect model (``cxnlp train aspects``, a
        :class:`~cxnlp.training.finetune.PairClassifier` over (sentence, aspect) pairs), the
        ``sentiment`` / ``sentiment_score`` of :meth:`mentions` come from that model read on
        each (sentence, theme) hit instead of the sentence sentiment: its polarity
        probabilities renormalised without ``none``. One extra forward pass per hit.

        Parameters
        ----------
        model : PairClassifier or path
            A folder written by ``cxnlp train aspects`` (checked against its model card),
            or a loaded model. ``None`` switches back to sentence sentiment.

        Raises
        ------
        ConfigError
            The model was trained for aspects none of which is a theme of this codeframe (by
            id or label); when only some are, a warning names the others.
        """
        if model is not None and not hasattr(model, "predict_proba"):
            from .training.finetune import PairClassifier

            model = PairClassifier.load(model)
        if model is not None and list(model.classes[-3:]) != list(_SENTIMENTS):
            raise ModelError(
                f"The aspect model's classes are {model.classes}; expected none, negative, "
                "neutral, positive. Train it with `cxnlp train aspects`."
            )
        if model is not None:
            _check_aspects(model, self.codeframe_)
        self.aspect_model_ = model
        return self

    def _aspect_proba(self, texts: list[str], s_idx: np.ndarray, t_idx: np.ndarray) -> np.ndarray:
        """(negative, neutral, positive) of each (sentence, theme) hit, ``none`` left out."""
        known = self.aspect_model_.info.get("aspects", {})
        names = [known.get(t.id, t.label) for t in self.codeframe_.themes]
        p = self.aspect_model_.predict_proba([texts[i] for i in s_idx], [names[k] for k in t_idx])
        pol = p[:, -3:].astype(np.float64)
        return pol / np.maximum(pol.sum(axis=1, keepdims=True), 1e-12)

    # -- persistence (safetensors + JSON + a model card with their SHA-256, never pickle)
    def save(self, path: str | Path, card: str | None = None) -> Path:
        """Write ``themes.safetensors`` + ``themes.json`` (codeframe included) to a folder.

        A ``MODEL_CARD.md`` ending with both files' SHA-256 is written too (``card`` is its
        body; ``cxnlp train themes`` writes a full one), so :meth:`load` can refuse a
        corrupt or edited head.
        """
        from safetensors.numpy import save_file

        from .training.cards import write_card

        self._ensure_prototypes()
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        tensors = {"prototypes": self.prototypes_, "thresholds": self.thresholds_}
        if hasattr(self, "coef_"):
            tensors.update(
                coef=self.coef_,
                intercept=self.intercept_,
                blend=self.blend_,
                decision_thresholds=self.decision_thresholds_,
            )
            if getattr(self, "ngram_vocabulary_", None):
                tensors.update(
                    ngram_coef=self.ngram_coef_,
                    ngram_intercept=self.ngram_intercept_,
                    ngram_idf=self.ngram_idf_,
                )
        save_file(
            {k: np.ascontiguousarray(v, np.float32) for k, v in tensors.items()},
            str(path / "themes.safetensors"),
        )
        enc = self._encoder()
        meta = {
            "format": "cxnlp.themes/1",
            "encoder": getattr(enc, "model_id", None),
            "params": {
                k: v for k, v in self.get_params().items() if k not in ("codeframe", "encoder")
            },
            "codeframe": self.codeframe_.model_dump(mode="json"),
            "ngram_vocabulary": list(getattr(self, "ngram_vocabulary_", []) or []),
        }
        (path / "themes.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        body = card or f"# Theme head for codeframe `{self.codeframe_.name}`\n"
        write_card(path, body, ARTIFACT_FILES)
        return path

    @classmethod
    def load(cls, path: str | Path, encoder: Any = None) -> CodeframeClassifier:
        """Load a classifier written by :meth:`save` or ``cxnlp train themes``.

        Every file is checked against the SHA-256 block of the folder's ``MODEL_CARD.md``
        first, and ``model_id_`` (``<folder>@<short hash>``) names the head in the run
        manifest.

        Raises
        ------
        ModelError
            The folder holds no head, a file is missing or does not match its model card, or
            the head was trained on another encoder.
        """
        from safetensors.numpy import load_file

        from .training.cards import verify_checksums

        path = Path(path)
        meta_file, weights = path / "themes.json", path / "themes.safetensors"
        if not meta_file.exists() or not weights.exists():
            raise ModelError(
                f"No themes model in {path}: expected themes.json and themes.safetensors "
                "(write them with CodeframeClassifier.save or `cxnlp train themes`)."
            )
        model_id = verify_checksums(
            path, ARTIFACT_FILES, "theme model",
            "retrain it with `cxnlp train themes --labels FILE --out DIR` or re-save it with "
            "CodeframeClassifier.save",
        )  # fmt: skip
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        if meta.get("format") != "cxnlp.themes/1":
            raise ModelError(f"{meta_file}: unknown format {meta.get('format')!r}")
        cf = Codeframe.from_dict(meta["codeframe"], source=str(meta_file))
        params = {k: v for k, v in meta["params"].items() if k not in ("codeframe", "encoder")}
        model = cls(cf, encoder, **params)
        trained_on = str(meta.get("encoder") or "")
        given = getattr(encoder, "model_id", None)
        if trained_on and given and given.split("@")[0] != trained_on.split("@")[0]:
            raise ModelError(
                f"{path} was trained on encoder {trained_on}, but the encoder given "
                f"is {given}. Use the same encoder or retrain."
            )
        t = load_file(str(weights))
        if t["prototypes"].shape[0] != len(cf.themes):
            raise ModelError(
                f"{weights}: {t['prototypes'].shape[0]} prototypes for "
                f"{len(cf.themes)} themes; the files do not belong together"
            )
        model.prototypes_ = t["prototypes"]
        model.thresholds_ = t["thresholds"]
        model.model_id_ = model_id
        model._ensure_keywords()
        if "coef" in t:
            model.coef_, model.intercept_ = t["coef"], t["intercept"]
            model.blend_, model.decision_thresholds_ = t["blend"], t["decision_thresholds"]
            model.n_features_in_ = model.prototypes_.shape[1]
            model.ngram_vocabulary_ = meta.get("ngram_vocabulary") or []
            if model.ngram_vocabulary_:
                model.ngram_coef_, model.ngram_intercept_ = t["ngram_coef"], t["ngram_intercept"]
                model.ngram_idf_ = t["ngram_idf"]
        return model

    def get_params(self, deep: bool = False) -> dict[str, Any]:
        """Constructor parameters (scikit-learn convention)."""
        names = (
            "codeframe",
            "encoder",
            "threshold",
            "temperature",
            "margin",
            "keyword_boost",
            "max_themes",
            "prefer_children",
            "C",
            "prior_strength",
            "ngram_weight",
            "exclusive",
            "random_state",
        )
        return {n: getattr(self, n) for n in names}

    def set_params(self, **params: Any) -> CodeframeClassifier:
        """Set constructor parameters (scikit-learn convention)."""
        for k, v in params.items():
            if not hasattr(self, k):
                raise ValueError(f"Unknown parameter {k!r} for CodeframeClassifier")
            setattr(self, k, v)
        return self


def _check_aspects(model: Any, cf: Codeframe) -> None:
    """Refuse an aspect model that knows none of the codeframe's themes; warn when some.

    The model reads (sentence, aspect text) pairs: on a theme it was not trained on it reads
    the theme's label, and its polarity there is a guess. A model without the record of its
    aspects (``finetune`` called directly) is taken as it is.
    """
    known = model.info.get("aspects") or {}
    if not known:
        return
    labels = {str(v).strip().lower() for v in known.values()}
    missing = [t.id for t in cf.themes
               if t.id not in known and t.label.strip().lower() not in labels]  # fmt: skip
    if not missing:
        return
    name, trained_for = model.info.get("artifact_id", "given"), model.info.get("codeframe", "?")
    trained = (f"The aspect model {name} was trained for codeframe '{trained_for}' "
               f"(aspects {_short_list(list(known))})")  # fmt: skip
    retrain = f"Train one for codeframe '{cf.name}' with `cxnlp train aspects`"
    if len(missing) == len(cf.themes):
        raise ConfigError(
            f"{trained}; it knows none of the themes of codeframe '{cf.name}' "
            f"({_short_list(cf.ids)}). {retrain}, or remove themes.aspect_model from the config."
        )
    import warnings

    warnings.warn(
        f"{trained}; it was not trained on {len(missing)} theme(s) of codeframe '{cf.name}' "
        f"({_short_list(missing)}), whose mention sentiment it guesses from their labels. "
        f"{retrain}.", UserWarning, stacklevel=3,
    )  # fmt: skip


def _empty_mentions() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in MENTION_COLUMNS})


def _f1(y: np.ndarray, p: np.ndarray) -> float:
    tp = float(np.sum(y & p))
    denom = float(np.sum(y) + np.sum(p))
    return 2 * tp / denom if denom else 0.0


def _micro_f1(Y: np.ndarray, P: np.ndarray) -> float:
    return _f1(Y.ravel(), P.ravel())


def theme_columns(mentions: pd.DataFrame, n_rows: int) -> list[list[str]]:
    """Theme ids per response (most confident first), for ``row_id`` 0..n_rows-1.

    Rows without a mention get an empty list (the pipeline marks them ``no_theme``).
    """
    out: list[list[str]] = [[] for _ in range(n_rows)]
    if len(mentions) == 0:
        return out
    ordered = mentions.sort_values(
        ["row_id", "confidence"], ascending=[True, False], kind="mergesort"
    )
    for rid, theme in zip(ordered["row_id"].to_numpy(), ordered["theme"].to_numpy(), strict=True):
        r = int(rid)
        if 0 <= r < n_rows:
            out[r].append(str(theme))
    return out
