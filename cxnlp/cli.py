"""Command line: thin typer wrappers that parse arguments and call the library."""

from __future__ import annotations

import functools
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from .errors import CxnlpError

app = typer.Typer(
    help=(
        "cxnlp: turn customer-feedback exports into sentiment, themes, scores and a report.\n\n"
        "Example: cxnlp analyze examples/clothing_reviews.csv --out out/"
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
train_app = typer.Typer(
    help="Train the heads that ship in models/ (reproducible on one machine).",
    no_args_is_help=True,
)
app.add_typer(train_app, name="train")
codeframe_app = typer.Typer(
    help="Codeframes: propose one from the topics in an export.", no_args_is_help=True
)
app.add_typer(codeframe_app, name="codeframe")

# markup off: column names, paths and texts are the user's ("Comment [/]" is not a rich tag);
# the Error/Warning prefixes turn it on for themselves
console = Console(stderr=True, markup=False)
out_console = Console(markup=False)


def _line(prefix: str, message: str) -> None:
    """One line on stderr after a styled ``prefix``: not wrapped by rich (the terminal wraps
    it), the message's brackets kept as written."""
    from rich.markup import escape

    console.print(f"{prefix} {escape(message)}", highlight=False, soft_wrap=True, markup=True)


def _error(message: str) -> None:
    _line("[bold red]Error:[/]", message)


def _warning(message: Warning | str, category: type[Warning], *_: Any, **__: Any) -> None:
    """A warning as one line, without the Python source location an analyst cannot use."""
    kind = "" if category is UserWarning or category.__name__ == "ReadWarning" else (
        f" ({category.__name__})")  # fmt: skip
    _line(f"[yellow]Warning{kind}:[/]", str(message))


def friendly_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Print a CxnlpError as one actionable line (exit 2) instead of a traceback, and each
    warning as one line."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with warnings.catch_warnings():
                warnings.showwarning = _warning
                return func(*args, **kwargs)
        except CxnlpError as exc:
            _error(str(exc))
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            console.print("Interrupted.")
            raise typer.Exit(130) from None
        except OSError as exc:
            if exc.filename is None:
                raise
            # the file system said no (permissions, a file where a folder should be, a full
            # disk): name the path (a move's destination), no traceback
            _error(f"cannot use {exc.filename2 or exc.filename}: {exc.strerror}.")
            raise typer.Exit(2) from None
        except MemoryError:
            _error("out of memory. Lower run.chunk_size (--chunk-size) or encoder.batch_size.")
            raise typer.Exit(3) from None

    return wrapper


def _parse_scores(values: list[str] | None) -> dict[str, str | None] | None:
    if not values:
        return None
    from .io import SCORE_KINDS

    out: dict[str, str | None] = {}
    for v in values:
        # A kind follows the last '=': 'a=b=rating' is column 'a=b', 'a=b=' detects its kind,
        # and 'Satisfied (1=yes, 0=no)' names a column (what follows '=' is no kind).
        col, _, kind = v.rpartition("=")
        kind = kind.strip().lower()
        if col and (kind in SCORE_KINDS or not kind):
            out[col.strip()] = kind or None
        else:
            out[v.strip()] = None
    return out


@app.command(
    epilog=(
        "Examples:\n\n"
        "  cxnlp analyze examples/clothing_reviews.csv --out out/\n\n"
        "  cxnlp analyze survey.xlsx --text-column 'Why?' --score-column Q1=nps --out out/\n\n"
        "  cxnlp analyze reviews.parquet --config my.yaml --codeframe retail\n\n"
        "  cxnlp analyze 'exports/*.csv' --dask-workers 4 --out out/"
    )
)
@friendly_errors
def analyze(
    input: Annotated[
        str,
        typer.Argument(
            help="Export to analyse: CSV/TSV, XLSX, Parquet, "
            "JSON Lines (Qualtrics/SurveyMonkey layouts too); "
            "with Dask also a glob such as 'exports/*.csv'."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the results.")] = Path("out"),
    config: Annotated[
        Path | None, typer.Option(help="YAML config (see configs/default.yaml).")
    ] = None,
    text_column: Annotated[
        list[str] | None,
        typer.Option(help="Free-text column (repeat for several). Default: detected."),
    ] = None,
    score_column: Annotated[
        list[str] | None,
        typer.Option(
            help="Score column as COL or COL=KIND (nps, csat, ces, rating, recommend); "
            "a kind follows the last '=' ('a=b=' is column a=b, kind detected). "
            "Repeatable. Default: detected."
        ),
    ] = None,
    date_column: Annotated[str | None, typer.Option(help="Date column. Default: detected.")] = None,
    segment_column: Annotated[
        list[str] | None, typer.Option(help="Segment column (repeatable). Default: detected.")
    ] = None,
    id_column: Annotated[str | None, typer.Option(help="Respondent id column.")] = None,
    encoding: Annotated[
        str | None, typer.Option(help="CSV encoding, e.g. cp1252. Default: detected.")
    ] = None,
    delimiter: Annotated[
        str | None, typer.Option(help="CSV delimiter, e.g. ';'. Default: detected.")
    ] = None,
    sheet: Annotated[
        str | None,
        typer.Option(help="XLSX sheet name or 0-based index. Default: first sheet with data."),
    ] = None,
    codeframe: Annotated[
        str | None,
        typer.Option(
            help="Codeframe: generic, retail, airline, restaurant, telecom, banking, or a YAML."
        ),
    ] = None,
    no_themes: Annotated[
        bool, typer.Option("--no-themes", help="Skip theme classification.")
    ] = False,
    chunk_size: Annotated[int | None, typer.Option(help="Rows per chunk (bounds memory).")] = None,
    backend: Annotated[
        str | None,
        typer.Option(
            help="Encoder: torch (default), onnx (same vectors, ~1.2x faster on CPU) or "
            "onnx-int8 (1.6-2.2x faster by CPU; cosine 0.998)."
        ),
    ] = None,
    dtype: Annotated[
        str | None,
        typer.Option(
            help="Torch precision: auto (default: float32 on CPU, float16 on CUDA), float32, "
            "bfloat16 (on a CPU with AMX or AVX512-BF16 ~2x faster, cosine 0.99998) or "
            "float16 (CUDA)."
        ),
    ] = None,
    progress: Annotated[
        bool | None,
        typer.Option(help="Show a progress bar. Default: on a terminal, else run.progress."),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Run on an existing Dask cluster, e.g. tcp://host:8786 (see docs/dask.md)."
        ),
    ] = None,
    dask_workers: Annotated[
        int | None, typer.Option(help="Run on a local Dask cluster of N worker processes.")
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Continue an interrupted run into the same --out, skipping finished "
            "chunks (the result is identical to an uninterrupted run).",
        ),
    ] = False,
) -> None:
    """Analyse a feedback export: sentiment, themes, scores; writes tables, metrics and a report."""
    from .config import apply_overrides, load_config
    from .pipeline import Analyzer

    started = time.perf_counter()
    cfg = apply_overrides(
        load_config(config),
        text_column=text_column or None,
        score_columns=_parse_scores(score_column),
        date_column=date_column,
        segment_columns=segment_column or None,
        id_column=id_column,
        encoding=encoding,
        delimiter=delimiter,
        sheet=int(sheet) if sheet is not None and sheet.isdigit() else sheet,
        codeframe=codeframe,
        chunk_size=chunk_size,
        backend=backend,
        dtype=dtype,
        progress=progress if progress is not None else sys.stderr.isatty() or None,
    )
    if no_themes:
        cfg = apply_overrides(cfg, **{"themes.enabled": False})
    elif codeframe and cfg.themes.model:
        from .errors import ConfigError

        raise ConfigError(
            f"--codeframe {codeframe} and themes.model {cfg.themes.model} both choose the themes "
            "(a trained head brings the codeframe it was trained on). Drop one of them."
        )
    if cfg.themes.enabled and not cfg.themes.model:
        from .themes import Codeframe

        Codeframe.load(cfg.themes.codeframe)  # a mistake in it stops the run before any reading
    if scheduler or dask_workers:
        if resume:
            from .errors import ConfigError

            raise ConfigError(
                "--resume is for runs on this machine (chunks kept in OUT/.cxnlp-parts); a Dask "
                "run does not checkpoint. Drop --resume, or run without --dask-workers/--scheduler."
            )
        from .backends.dask import run_cli
        from .io import ColumnMap

        _check_out(out)
        results = run_cli(input, cfg, scheduler, dask_workers)
        # results.columns also records the link stage's columns (touchpoint, churn)
        mapping = {k: v for k, v in results.columns.items() if k in ColumnMap.model_fields}
        console.print(
            f"Analysed {len(results.responses):,} rows on Dask.\n{ColumnMap(**mapping).describe()}",
            highlight=False,
        )
        written = results.save(out)
    else:
        from .io import require_file

        require_file(input, "a glob runs on Dask. Add --dask-workers N (a local cluster) or "
                     "--scheduler ADDRESS, or pass one file.")  # fmt: skip
        _check_out(out)  # after the input: a typo in its name leaves no empty folder behind

        def opened(src: Any, store: Any) -> None:
            rows = f"{src.total:,} rows" if src.total is not None else "a large export in pieces"
            layout = src.attrs.get("layout", "plain")
            console.print(
                f"Reading {rows} from {input} (layout: {layout}).\n{src.columns.describe()}",
                highlight=False,
            )
            if resume and store.done():
                console.print(f"Resuming: {len(store.done())} finished chunk(s) in {store.folder}.")

        results, written = Analyzer(cfg).run(input, out, resume=resume, on_open=opened)
    from .views import date_note, language_note

    for note in (date_note(results), language_note(results)):  # the report says them too
        if note:
            _warning(note, UserWarning)
    _summary(results, written, time.perf_counter() - started)


def _check_out(out: Path) -> None:
    """Refuse an output folder that cannot be written before the run, not after it."""
    import tempfile

    if out.exists() and not out.is_dir():
        raise CxnlpError(f"--out {out} is a file; give a folder for the results.")
    try:
        out.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=out).close()
    except OSError as exc:
        raise CxnlpError(f"Cannot write to the output folder {out}: {exc.strerror}.") from None


def _summary(results: Any, written: dict[str, Path], seconds: float) -> None:
    """One screen: rows, statuses, sentiment mix, scores, where the files are."""
    m = results.metrics
    n = len(results.responses)
    table = Table(title=f"cxnlp: {n:,} rows in {seconds:.1f} s", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    for status, count in results.responses["status"].value_counts().items():
        table.add_row(f"status: {status}", f"{count:,}")
    sentiment = m.get("sentiment") or {}  # the report's numbers: shares of analysed rows
    for label, count in (sentiment.get("counts") or {}).items():
        if count:
            share = count / max(sentiment.get("n") or 0, 1)
            table.add_row(f"sentiment: {label}", f"{count:,} ({share:.0%} of analysed)")
    for col, s in (m.get("scores") or {}).items():
        value = s.get("value")
        if value is not None:
            low, high = (s.get(k) for k in ("low", "high"))  # None: no interval (n = 1)
            ci = f" [{low:.1f}, {high:.1f}]" if low is not None and high is not None else ""
            table.add_row(f"{s.get('kind', '')} '{col}'", f"{value:.1f}{ci} n={s.get('n', 0):,}")
    if "themes" in results.responses and len(results.mentions):
        top = results.mentions["theme"].value_counts().head(5)
        table.add_row("top themes", ", ".join(f"{t} ({c})" for t, c in top.items()))
    out_dir = next(iter(written.values())).parent if written else Path(".")
    table.add_row("written to", f"{out_dir}/ ({', '.join(sorted(written))})")
    out_console.print(table)


# options shared by the `train` commands
TextColumn = Annotated[str | None, typer.Option(help="Text column (default: detected).")]
Folds = Annotated[int, typer.Option(help="Cross-validation folds for the model card (0: none).")]
Seed = Annotated[int, typer.Option(help="Random seed.")]
CleanConfig = Annotated[
    Path | None,
    typer.Option("--config", help="YAML config whose clean.* settings (PII redaction, "
                 "normalisation) the labels get, as analyze gives its texts."),
]


@train_app.command(
    "sentiment",
    epilog="Example:\n\n  cxnlp train sentiment --out models/sentiment",
)
@friendly_errors
def train_sentiment(
    out: Annotated[Path, typer.Option(help="Folder to write the head and its model card.")] = Path(
        "models/sentiment"
    ),
    data: Annotated[
        Path | None,
        typer.Option(
            help="Folder of the public data sets (default: $CXNLP_DATA or ../shared/data)."
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
) -> None:
    """Train the sentiment head on ship-safe public data (see models/sentiment/MODEL_CARD.md)."""
    from .sentiment import train_sentiment as train

    metrics = train(out, data_dir=data, seed=seed)
    out_console.print(f"Saved sentiment head to {out}")
    for key, value in metrics.items():
        out_console.print(f"  {key}: {value}")


@train_app.command(
    "themes",
    epilog=(
        "Examples:\n\n"
        "  cxnlp train themes --codeframe retail --labels labels.csv --out models/themes-shop\n\n"
        "  cxnlp train themes --codeframe my.yaml --labels coded.xlsx --text-column Comment "
        "--theme-column Code\n\n"
        "  cxnlp train themes --codeframe my.yaml --labels one_code_each.csv --exclusive\n\n"
        "Then set `themes: {model: models/themes-shop}` in your config."
    ),
)
@friendly_errors
def train_themes(
    codeframe: Annotated[
        str, typer.Option(help="Codeframe: shipped name (generic, retail, ...) or a YAML path.")
    ],
    labels: Annotated[
        Path,
        typer.Option(
            help="CSV/XLSX with a text column and a theme column (one row per text x theme, or "
            "themes separated by ';'; ids or labels)."
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            help="Folder for the head and its MODEL_CARD.md (default models/themes-<codeframe>)."
        ),
    ] = None,
    text_column: TextColumn = None,
    theme_column: Annotated[
        str | None,
        typer.Option(help="Theme column (default: theme, themes, label, code or category)."),
    ] = None,
    cv: Folds = 3,
    seed: Seed = 0,
    exclusive: Annotated[
        bool,
        typer.Option(
            help="Each text has one theme or none (single-code labels): fit one multinomial "
            "model over the themes and 'none' instead of one model per theme."
        ),
    ] = False,
    config: CleanConfig = None,
) -> None:
    """Fit a theme head on labelled examples (8-16 per theme already help) and save it."""
    from .training.themes import train_themes as train

    folder = out or Path("models") / f"themes-{Path(codeframe).stem}"
    info = train(
        codeframe,
        labels,
        folder,
        text_column=text_column,
        theme_column=theme_column,
        cv=cv,
        seed=seed,
        exclusive=exclusive,
        config=config,
    )
    what = f"theme head for codeframe '{info['codeframe']}'"
    _saved(what, folder, info, "micro-F1", "micro_f1", f"themes: {{model: {folder}}}")


def _saved(what: str, folder: Path, info: dict, name: str, key: str, use: str) -> None:
    """What a `train` command wrote, its cross-validated figures, and how to use it."""
    out_console.print(f"Saved {what} to {folder} ({info['texts']} texts).")
    cvm = info["cv"]
    if cvm:
        value = cvm.get(key)  # top-1 accuracy is None when no text has exactly one label
        shown = f"{float(value):.3f}" if value is not None else "n/a (see the model card)"
        out_console.print(
            f"  {cvm['folds']}-fold CV: {name} {shown}, macro-F1 {cvm['macro_f1']:.3f}"
        )
    out_console.print(f"  Use it: set `{use}` in your config.")


@train_app.command(
    "churn",
    epilog=(
        "Examples:\n\n"
        "  cxnlp train churn --labels cancellations.csv --out models/churn-mine\n\n"
        "  cxnlp train churn --labels coded.xlsx --reason-column Reason --codeframe telecom\n\n"
        "Then set `link: {churn_model: models/churn-mine}` in your config."
    ),
)
@friendly_errors
def train_churn(
    labels: Annotated[
        Path,
        typer.Option(
            help="CSV/XLSX with a text column and a reason column (reason ids or labels; "
            "'other' for none of them), one row per text."
        ),
    ],
    out: Annotated[Path, typer.Option(help="Folder for the head and its MODEL_CARD.md.")] = Path(
        "models/churn"
    ),
    config: Annotated[
        Path | None,
        typer.Option(help="YAML config whose link.churn_reasons and clean.* settings to use."),
    ] = None,
    codeframe: Annotated[
        str | None,
        typer.Option(help="Codeframe whose churn_reasons to use (default: the ten defaults)."),
    ] = None,
    text_column: TextColumn = None,
    reason_column: Annotated[
        str | None,
        typer.Option(help="Reason column (default: churn_reason, reason, label or code)."),
    ] = None,
    cv: Folds = 3,
    seed: Seed = 0,
) -> None:
    """Fit a churn-reason head (one model over the reasons and other) and save it."""
    from .config import load_config
    from .training.themes import train_churn as train

    reasons = load_config(config).link.churn_reasons if config else None
    info = train(labels, out, reasons=reasons, codeframe=codeframe, text_column=text_column,
                 reason_column=reason_column, cv=cv, seed=seed, config=config)  # fmt: skip
    _saved("churn-reason head", out, info, "top-1 accuracy", "top1_accuracy",
           f"link: {{churn_model: {out}}}")  # fmt: skip


@train_app.command(
    "aspects",
    epilog=(
        "Examples:\n\n"
        "  cxnlp train aspects --codeframe restaurant --labels ../shared/data/mams-absa/MAMS-ACSA/"
        "train.xml --val ../shared/data/mams-absa/MAMS-ACSA/val.xml --out models/aspects-rest\n\n"
        "  cxnlp train aspects --codeframe my.yaml --labels coded.csv --aspect-column Theme "
        "--polarity-column Tone\n\n"
        "Then set `themes: {aspect_model: models/aspects-rest}` in your config."
    ),
)
@friendly_errors
def train_aspects(
    codeframe: Annotated[
        str, typer.Option(help="Codeframe whose themes are the aspects (name or YAML path).")
    ],
    labels: Annotated[
        Path,
        typer.Option(
            help="CSV/XLSX with text, aspect (theme id or label) and polarity columns, one "
            "row per text x aspect; or a SemEval-2014 / MAMS-ACSA XML file."
        ),
    ],
    out: Annotated[Path, typer.Option(help="Folder for the model and its MODEL_CARD.md.")] = Path(
        "models/aspects"
    ),
    val: Annotated[
        Path | None,
        typer.Option(help="Validation labels for the epoch choice (default: 10% held out)."),
    ] = None,
    epochs: Annotated[int, typer.Option(min=1, help="Most epochs trained.")] = 3,
    none_rate: Annotated[
        float,
        typer.Option(min=0.0, max=1.0, help="Share of (text, absent aspect) pairs trained on."),
    ] = 1.0,
    licence: Annotated[str, typer.Option(help="Licence of the labels, for the card.")] = (
        "not recorded"
    ),
    text_column: TextColumn = None,
    aspect_column: Annotated[str | None, typer.Option(help="Aspect column.")] = None,
    polarity_column: Annotated[str | None, typer.Option(help="Polarity column.")] = None,
    seed: Seed = 0,
    config: CleanConfig = None,
) -> None:
    """Fine-tune MiniLM on (text, aspect) pairs: aspect detection and sentiment in one model."""
    from .training.aspects import train_aspects as train
    from .training.finetune import FinetuneConfig

    cfg = FinetuneConfig(epochs=epochs, seed=seed, metric="macro_f1")
    info = train(codeframe, labels, out, val=val, config=cfg, none_rate=none_rate,
                 licence=licence, text_column=text_column, aspect_column=aspect_column,
                 polarity_column=polarity_column, run_config=config,
                 log=lambda m: console.print(f"  {m}"))  # fmt: skip
    out_console.print(f"Saved aspect model to {out} ({info['train_examples']} pairs, epoch "
                      f"{info['epoch']}, {info['train_seconds']:.0f} s).")  # fmt: skip
    if info["val_history"]:
        out_console.print(f"  validation macro-F1 per epoch: {info['val_history']}")
    out_console.print(f"  Use it: set `themes: {{aspect_model: {out}}}` in your config.")


@codeframe_app.command(
    "suggest",
    epilog=(
        "Examples:\n\n"
        "  cxnlp codeframe suggest examples/clothing_reviews.csv --out codeframe.yaml\n\n"
        "  cxnlp codeframe suggest survey.xlsx --text-column 'Why?' --base retail"
    ),
)
@friendly_errors
def codeframe_suggest(
    input: Annotated[str, typer.Argument(help="Export to discover topics in.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="YAML file to write.")] = Path(
        "codeframe.yaml"
    ),
    text_column: Annotated[
        list[str] | None,
        typer.Option(help="Free-text column (repeat for several). Default: detected."),
    ] = None,
    base: Annotated[
        str,
        typer.Option(
            help="Codeframe the topics are compared with (shipped name or YAML path); 'none' to "
            "skip."
        ),
    ] = "generic",
    config: Annotated[Path | None, typer.Option(help="YAML config (topics.* settings).")] = None,
    seed: Annotated[int | None, typer.Option(help="Topic seed (default topics.seed).")] = None,
    min_topic_size: Annotated[
        int | None, typer.Option(help="Smallest topic (default topics.min_topic_size).")
    ] = None,
) -> None:
    """Propose a codeframe (YAML you edit) from the topics discovered in an export."""
    from .config import apply_overrides, load_config
    from .errors import InputError
    from .io import require_file
    from .pipeline import Analyzer
    from .themes import Codeframe
    from .topics import suggest_codeframe, topics_available

    require_file(input, "`codeframe suggest` reads one export. Pass one file.")
    if not topics_available():
        raise InputError("Topic discovery needs BERTopic: pip install 'cxnlp[topics]'.")
    cfg = apply_overrides(
        load_config(config),
        text_column=text_column or None,
        **{"topics.seed": seed, "topics.min_topic_size": min_topic_size},
    )
    analyzer = Analyzer(cfg)
    cf, table, text = suggest_codeframe(
        input, analyzer, base=None if base.lower() == "none" else base
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    Codeframe.from_yaml(out)  # what we wrote loads back
    overlap = int(table["matched_theme"].fillna("").astype(bool).sum())
    out_console.print(
        f"Wrote {len(cf.themes)} suggested themes to {out} ({overlap} overlap "
        f"'{base}', {len(cf.themes) - overlap} new)."
    )
    for row in table.head(15).itertuples(index=False):
        mark = f"~ {row.matched_theme}" if row.matched_theme else "new"
        out_console.print(f"  {row.size:>6,}  {row.label}  ({mark})", highlight=False)


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
