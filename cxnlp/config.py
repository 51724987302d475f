"""Pipeline configuration: pydantic models loaded from YAML, with errors that point at the line.

Every step's defaults live here beside its settings, so ``Config()`` is a complete, working
configuration and a YAML file only says what differs.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import ConfigError
from .paths import configs_dir

ScoreKind = Literal["nps", "csat", "ces", "rating", "recommend"]
#: Encoder backends: torch (sentence-transformers), onnx (exact fp32), onnx-int8 (fastest).
EncoderBackend = Literal["torch", "onnx", "onnx-int8"]
#: Weight dtypes of the torch backend (``auto``: float16 on CUDA, float32 elsewhere).
EncoderDtype = Literal["auto", "float32", "float16", "bfloat16"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class IOConfig(_Strict):
    """Which columns mean what. ``None`` means: detect it and print the guess.

    ``stream_above_mb``: text and Parquet exports larger than this are read piece by piece
    (pieces of this size; columns are detected on the first piece), so memory holds one
    piece of the input, not the file.
    """

    text_column: list[str] | str | None = None
    score_columns: dict[str, ScoreKind | None] | None = None  # None kind = detect it
    date_column: str | None = None
    segment_columns: list[str] | None = None
    id_column: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | int | None = None
    stream_above_mb: float = Field(32, gt=0)


class CleanConfig(_Strict):
    """Normalisation, PII redaction, and the limits that give a row a status, not a result.

    ``id_patterns``: regexes for order/account numbers (named group ``id`` is redacted);
    ``None`` uses :data:`cxnlp.pii.DEFAULT_ID_PATTERNS`.
    ``redact_columns``: other columns passed through to ``responses`` whose text is redacted
    too; ``None`` = every column but the score, date and id columns.
    ``personal_columns``: columns whose every value is replaced by a placeholder (``[EMAIL]``,
    ``[NAME]``...); ``None`` = detected by header (e-mail, name, phone, IP address, address,
    latitude/longitude, as in Qualtrics' recipient fields); ``[]`` = none.
    """

    normalize: bool = True
    max_chars: int = Field(100_000, gt=0, description="longer texts get status 'text too long'")
    redact_pii: bool = True
    pii_kinds: list[Literal["email", "url", "iban", "card", "phone", "postcode", "id", "name"]] = [
        "email",
        "url",
        "iban",
        "card",
        "phone",
        "postcode",
        "id",
    ]
    phone_regions: list[str] = ["GB", "US"]
    id_patterns: list[str] | None = None
    redact_columns: list[str] | None = None
    personal_columns: list[str] | None = None
    languages: list[str] | None = Field(
        ["en"],
        description="languages the models read (ISO 639 codes); a comment detected in another "
        "gets status 'other language'; null = no detection",
    )

    @field_validator("languages")
    @classmethod
    def _language_codes(cls, codes: list[str] | None) -> list[str] | None:
        if codes is None:
            return None
        if bad := [c for c in codes if not re.fullmatch(r"[A-Za-z]{2,3}", c.strip())]:
            raise ValueError(f"{bad[0]!r} is not an ISO 639 language code: use two or three "
                             "letters such as en, es, de, pt")  # fmt: skip
        return [c.strip().lower() for c in codes]


class EncoderConfig(_Strict):
    """The one sentence encoder every head shares."""

    model: str = "all-MiniLM-L6-v2"
    backend: EncoderBackend = "torch"
    device: str | None = None
    dtype: EncoderDtype = "auto"
    batch_size: int | None = Field(None, gt=0)
    tokenize_workers: int | None = Field(None, ge=0)
    cache: bool = True
    cache_dir: str | None = None


class SentimentConfig(_Strict):
    """Sentiment head; ``model`` is a folder with a saved head (default: the shipped one)."""

    model: str | None = None


class ThemesConfig(_Strict):
    """Codeframe (a shipped name such as ``generic``/``retail`` or a YAML path)."""

    enabled: bool = True
    codeframe: str = "generic"
    model: str | None = None
    #: folder of a fine-tuned (sentence, aspect) model (``cxnlp train aspects``): mention
    #: sentiment per (sentence, theme) instead of the sentence sentiment.
    aspect_model: str | None = None


class TopicsConfig(_Strict):
    """Topic discovery with BERTopic on the shared embeddings (:mod:`cxnlp.topics`).

    Skipped with a note in ``metrics["topics"]`` when fewer than ``min_docs`` rows were
    analysed or BERTopic is not installed (``pip install 'cxnlp[topics]'``).
    ``outlier_threshold``: cosine similarity above which an outlier joins its nearest topic;
    ``match_threshold``: similarity of a topic to a codeframe theme below which the topic is
    reported as missing from the codeframe.

    Both defaults were measured on train splits only (``python benchmarks/themes.py --only
    thresholds``). Outliers: on 6,000 clothing train reviews, HDBSCAN left 51 % as outliers
    and nearly all of them sit above 0.5 of some centroid (review vectors are close to each
    other), so the former 0.35 pulled every one in. Outliers at >= 0.70 share their new
    topic's majority ``Class Name`` / ``Department Name`` at least halfway between chance
    and the topic members' own purity; those at 0.65-0.70 fall below that, hence 0.70.
    Matches: topics fitted on SemEval-2014 and MAMS-ACSA train sentences against
    ``restaurant.yaml``; a topic should match when its nearest theme is one of its own
    categories (97 cases) and stay unmatched when its categories' themes are taken out of
    the codeframe (141 cases). At 0.45, 56 % of those uncovered topics were still "matched";
    0.50 rejects 70 % and keeps 85 % of the right matches (balanced accuracy 0.77, the best
    of 0.30-0.75; 0.68 at 0.45).
    """

    enabled: bool = True
    seed: int = 0
    min_topic_size: int = Field(10, ge=2)
    max_fit_docs: int = Field(20_000, ge=10)
    min_docs: int = Field(50, ge=10)
    outlier_threshold: float | None = Field(0.70, ge=-1, le=1)
    match_threshold: float = Field(0.50, ge=-1, le=1)


class RunConfig(_Strict):
    """How rows flow: chunk size (memory bound) and progress display."""

    chunk_size: int = Field(2000, gt=0)
    progress: bool = False


class ReportConfig(_Strict):
    title: str = "Customer feedback report"
    examples_per_sentiment: int = Field(5, ge=0)


class LinkConfig(_Strict):
    """Touchpoints and churn reasons (:mod:`cxnlp.link`).

    ``touchpoints``: ``{theme_id: touchpoint}`` overriding the codeframe's links;
    ``touchpoint_aliases``: ``{export value: touchpoint}`` tried before fuzzy matching;
    ``touchpoint_column`` / ``churn_column``: ``None`` = detect, ``""`` = none.
    ``churn_reasons``: reason ids (``None``: the codeframe's list, else the default ten) or
    ``{id: description}``; ``churn_map`` overrides the codeframe's theme → reason links.
    """

    touchpoints: dict[str, str] = {}
    touchpoint_column: str | None = None
    touchpoint_aliases: dict[str, str] = {}
    fuzzy_cutoff: float = Field(0.75, gt=0, le=1)
    churn_column: str | None = None
    churn_reasons: list[str] | dict[str, str] | None = None
    churn_map: dict[str, str] = {}
    churn_model: str | None = None
    at_risk_scores: bool = True
    negative_text_at_risk: bool = True
    #: None: 0.5 with the zero-shot classifier, 0.25 with a trained head (link.theme_weight_for)
    theme_weight: float | None = Field(None, ge=0, le=1)
    min_reason_confidence: float = Field(0.35, ge=0, le=1)


class DriversConfig(_Strict):
    """Key drivers, score-text disagreement and trends (:mod:`cxnlp.drivers`).

    ``score_column``: the outcome (``None``: the first NPS, CSAT, CES, rating or recommend
    column; without one, the mean text ``sentiment_score``). ``min_n``: cells with fewer
    responses are flagged ``small`` (never hidden). ``period``: ``auto`` picks day, week, month
    or quarter from the date span (the report's period filter uses the same); ``dayfirst``:
    ``None`` decides from the values (``13/01`` means day first), ambiguous dates are read
    month first unless set to ``true``.
    """

    score_column: str | None = None
    confidence: float = Field(0.95, gt=0, lt=1)
    bootstrap: int = Field(1000, ge=0)
    seed: int = 0
    min_n: int = Field(30, ge=1)
    disagreement_threshold: float = Field(0.7, gt=0.5, le=1)
    period: Literal["auto", "day", "week", "month", "quarter"] = "auto"
    dayfirst: bool | None = None
    baseline_periods: int = Field(3, ge=1)
    fdr: float = Field(0.05, gt=0, lt=1)


class Config(_Strict):
    """The whole run. Load with :func:`load_config`; override with ``config.model_copy``."""

    io: IOConfig = IOConfig()
    clean: CleanConfig = CleanConfig()
    encoder: EncoderConfig = EncoderConfig()
    sentiment: SentimentConfig = SentimentConfig()
    themes: ThemesConfig = ThemesConfig()
    topics: TopicsConfig = TopicsConfig()
    link: LinkConfig = LinkConfig()
    drivers: DriversConfig = DriversConfig()
    run: RunConfig = RunConfig()
    report: ReportConfig = ReportConfig()


def _line_of(root: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the YAML node at ``loc`` (or of its deepest existing parent)."""
    node, line = root, None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if k.value == key), None)
            hit = next((k for k, v in node.value if k.value == key), None)
            if hit is None:
                break
            line, node = hit.start_mark.line + 1, nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            break
    return line


def read_yaml(path: Path, what: str) -> tuple[Any, yaml.Node | None]:
    """Parse a YAML file into (data, node tree); errors name the file and line.

    A key written twice in one mapping is an error: YAML keeps the last one silently, so a
    second ``topics:`` block would undo the first without a word.
    """
    import io

    def named() -> io.StringIO:
        stream = io.StringIO(text)
        stream.name = str(path)  # PyYAML names the stream in its messages
        return stream

    try:
        text = path.read_text(encoding="utf-8")
        root = yaml.compose(named())
        data = yaml.safe_load(named())  # tags safe_load refuses (!!python/...) fail here
    except UnicodeDecodeError:
        raise ConfigError(f"{what} {path} is not UTF-8 text. Save it as UTF-8.") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{what} {path} is not valid YAML: {exc}") from None
    twice = []
    todo = [root] if root is not None else []
    while todo:
        node = todo.pop()
        if isinstance(node, yaml.MappingNode):
            seen: set[tuple[str, str]] = set()
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and (key.tag, key.value) in seen:
                    twice.append(f"{path}:{key.start_mark.line + 1}: key '{key.value}' is "
                                 "written twice in the same block; merge the two")  # fmt: skip
                if isinstance(key, yaml.ScalarNode):
                    seen.add((key.tag, key.value))
                todo.append(value)
        elif isinstance(node, yaml.SequenceNode):
            todo.extend(node.value)
    if twice:
        raise ConfigError(f"{what} {path}: " + "; ".join(sorted(twice)) + ".")
    return data, root


def config_from_dict(data: dict[str, Any], source: str = "<config>", root: Any = None) -> Config:
    """Validate a dict into a :class:`Config`, reporting every problem at once."""
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"])
            where = _line_of(root, err["loc"])
            at = f"{source}:{where}" if where else source
            got = "" if err["type"] == "missing" else f" (got {err.get('input')!r})"
            msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
            msg = msg.removeprefix("Value error, ")  # our own validators' messages, as written
            lines.append(f"  {at}: {key}: {msg}{got}")
        raise ConfigError(
            f"Invalid configuration in {source}:\n"
            + "\n".join(lines)
            + "\nSee configs/default.yaml for every key and its default."
        ) from None


def load_config(path: str | Path | None = None) -> Config:
    """Load a YAML config; ``None`` gives the shipped ``default.yaml``.

    Examples
    --------
    >>> cfg = load_config()
    >>> cfg.encoder.model
    'all-MiniLM-L6-v2'
    """
    path = Path(path) if path is not None else configs_dir() / "default.yaml"
    if not path.is_file():
        raise ConfigError(f"Config file not found: {path}. Pass an existing YAML file to --config.")
    data, root = read_yaml(path, "Config")
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path} must hold a mapping of sections (io, encoder, ...), "
            f"not a {type(data).__name__}."
        )
    return config_from_dict(_beside(data, path.parent), str(path), root)


#: Settings that name a file or folder (read beside the config file by :func:`_beside`).
PATH_SETTINGS = (("encoder", "model"), ("sentiment", "model"), ("themes", "codeframe"),
                 ("themes", "model"), ("themes", "aspect_model"), ("link", "churn_model"))


def _beside(data: dict[str, Any], folder: Path) -> dict[str, Any]:
    """``data`` with relative paths that exist next to the config file made absolute.

    A config that says ``themes: {model: heads/mine}`` beside its ``heads`` folder works from
    any working folder (cron, CI, a Makefile elsewhere); a path that exists from the working
    folder, or nowhere, is left as written (and its error says which folder it was read from).
    """
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in data.items()}
    for section, key in PATH_SETTINGS:
        value = out.get(section, {}).get(key) if isinstance(out.get(section), dict) else None
        if not isinstance(value, str) or Path(value).is_absolute() or Path(value).exists():
            continue
        if (folder / value).exists():
            out[section][key] = str((folder / value).resolve())
    return out


def apply_overrides(config: Config, **overrides: Any) -> Config:
    """Return a copy with dotted or section-less overrides applied.

    Keys may be ``"io.text_column"`` or a unique field name such as ``text_column``;
    ``None`` values are ignored so CLI options left unset do not override the file.
    """
    data = config.model_dump()
    known = sorted(f"{s}.{n}" for s, sub in data.items() for n in sub)
    for key, value in overrides.items():
        if value is None:
            continue
        matches = [k for k in known if k == key or k.endswith("." + key)]
        if len(matches) > 1:
            raise ConfigError(f"Setting '{key}' is ambiguous: it may be {' or '.join(matches)}. "
                              f"Use the full name, e.g. **{{'{matches[0]}': ...}}.")
        if not matches:
            if key in data:  # a whole section, e.g. topics={"enabled": False}
                raise ConfigError(
                    f"'{key}' is a section, not a setting: pass config={{'{key}': {{...}}}}, or "
                    f"one setting by its full name, e.g. **{{'{key}.{next(iter(data[key]))}': "
                    "...}.")
            names = known if "." in key else sorted({k.split(".")[1] for k in known})
            close = difflib.get_close_matches(key, names, 3)
            hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            raise ConfigError(f"Setting '{key}' is unknown.{hint} Known settings: "
                              f"{', '.join(known)}")
        section, name = matches[0].split(".")
        data[section][name] = value
    return config_from_dict(data, "overrides")
