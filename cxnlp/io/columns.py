"""Which column means what: :class:`ColumnMap`, :func:`detect_columns` (named by the user
or guessed) and :func:`detect_link_columns` (touchpoint and churn flag).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from ..config import ScoreKind
from ..errors import ConfigError, InputError
from .guess import (
    _CES,
    _CSAT,
    _NPS,
    _RATING,
    _STARS,
    _TEXT_STRONG,
    _TEXT_WEAK,
    _guess_date,
    _guess_id,
    _guess_kind,
    _guess_segments,
    _guess_text,
    _kind_by_range,
    _rx,
)
from .layouts import _QUALTRICS_META, _SM_META, _list_columns
from .profile import _norm_label, _Profile
from .scores import SCORE_KINDS

# Where each field of the column mapping can be set, for error messages.
#: How to name a column, for the command line, Python and a config alike.
_HOW_TO_SET = {
    "text": "Name it: --text-column COL, text_column='COL' in Python, or io.text_column.",
    "scores": "Name it: --score-column COL=KIND, score_columns={'COL': 'KIND'} in Python, or "
    "io.score_columns.",
    "date": "Name it: --date-column COL, date_column='COL' in Python, or io.date_column.",
    "segments": "Name them: --segment-column COL, segment_columns=['COL'] in Python, or "
    "io.segment_columns.",
    "id": "Name it: --id-column COL, id_column='COL' in Python, or io.id_column.",
}


class ColumnMap(BaseModel):
    """Which column means what in a feedback table.

    Attributes
    ----------
    text : list of str
        Free-text columns, the primary one first. The pipeline analyses them joined by a
        line break.
    scores : dict of str to str
        Score column -> kind, one of ``nps``, ``csat``, ``ces``, ``rating``, ``recommend``.
    date : str or None
        Response date column.
    segments : list of str
        Columns to break results down by (department, region, channel, plan...).
    id : str or None
        Column with a unique id per response.
    notes : list of str
        Why each guess was made (or a likely candidate rejected); shown by :meth:`describe`.
    """

    model_config = ConfigDict(extra="forbid")

    text: list[str]
    scores: dict[str, ScoreKind] = Field(default_factory=dict)
    date: str | None = None
    segments: list[str] = Field(default_factory=list)
    id: str | None = None
    notes: list[str] = Field(default_factory=list)

    def describe(self) -> str:
        """Render the mapping for printing, one field per line, with the reasons for guesses.

        Returns
        -------
        str
            E.g. ``"text      Review Text (+ Title)\\nscores    Rating (rating)..."``.
        """
        dash = "-"
        text = self.text[0] + (f" (+ {', '.join(self.text[1:])})" if self.text[1:] else "")
        lines = [
            f"text      {text}",
            "scores    " + (", ".join(f"{c} ({k})" for c, k in self.scores.items()) or dash),
            f"date      {self.date or dash}",
            f"segments  {', '.join(self.segments) or dash}",
            f"id        {self.id or dash}",
        ]
        if self.notes:
            lines.append("notes")
            lines += [f"  - {n}" for n in self.notes]
        return "\n".join(lines)


def detect_columns(
    df: pd.DataFrame,
    *,
    text: str | Sequence[str] | None = None,
    scores: Mapping[str, str | None] | Sequence[str] | str | None = None,
    date: str | Literal[False] | None = None,
    segments: str | Sequence[str] | None = None,
    id: str | Literal[False] | None = None,  # noqa: A002 - the field's name
) -> ColumnMap:
    """Decide which columns hold the free text, scores, date, segments and response id.

    Anything passed explicitly wins; the rest is guessed from the headers (and, for survey
    layouts, the question texts in ``df.attrs["questions"]``) and from the values.

    Parameters
    ----------
    df : pandas.DataFrame
        A table from :func:`read_feedback` (or any DataFrame).
    text : str or list of str, optional
        Free-text column(s), primary first.
    scores : dict, list of str or str, optional
        Score columns as ``{column: kind}`` (a kind of ``None`` is guessed), or a list of
        columns whose kinds are guessed. ``{}`` means: no scores.
    date : str or False, optional
        Date column; ``False`` means: none.
    segments : str or list of str, optional
        Segment columns; ``[]`` means: none.
    id : str or False, optional
        Response id column; ``False`` means: none.

    Returns
    -------
    ColumnMap

    Raises
    ------
    InputError
        If a named column does not exist (the message lists the columns and how to set it), if
        no free-text column can be found, or if the kind of a named score column cannot be told.
    ConfigError
        If a score kind is not one of ``nps``, ``csat``, ``ces``, ``rating``, ``recommend``.

    Notes
    -----
    Guessing rules, in brief:

    - **text**: not numbers or dates; header/question mentions comment, feedback, review,
      verbatim, why, reason... (or text, message, title) with at least ~2 words per value, or
      long (5+ words), varied values under any non-personal header. The best named, longest
      column is primary; other named text columns follow (a title/summary comes last).
    - **scores**: mostly numbers (or yes/no). Header mentions NPS / likely to recommend (0-10),
      CSAT / satisfaction (1-5), effort / CES / easy (1-7), rating / stars (1-5), a bare "score"
      (the range decides: 0-10 nps, 1-5 rating, 1-7 ces), recommend with yes/no/1/0 values
      (recommend). Without a header hint, only whole numbers in 0-10 with 9+ levels count (nps).
      Out-of-range values do not prevent a guess; see :func:`parse_scores`.
    - **date**: 80%+ of values parse as dates (or a datetime dtype); recorded/submitted/end
      dates are preferred over created/date, then time-like headers, then start dates.
    - **id**: unique, filled values under an id-like header (response/respondent id first),
      or an unnamed first column of unique whole numbers (a saved pandas index).
    - **segments**: string columns with 2-50 distinct, repeating, short values (up to 200 when
      the header says department/region/channel/plan/...), mostly filled; not personal data,
      survey metadata, or existing sentiment/NPS-group labels.
    """
    source = df.attrs.get("source") or "the table"
    questions: dict[str, str] = dict(df.attrs.get("questions") or {})
    columns = [str(c) for c in df.columns]
    notes: list[str] = []

    def need(col: Any, field: str) -> str:
        col = str(col)
        if col in columns:
            return col
        close = [c for c in columns if c.lower().strip() == col.lower().strip()]
        if not close:
            import difflib

            close = difflib.get_close_matches(col, columns, n=1, cutoff=0.75)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise InputError(
            f"Column {col!r} not found in {source} (columns: {_list_columns(columns)}).{hint} "
            + _HOW_TO_SET[field]
        )

    def as_list(v: str | Sequence[str]) -> list[str]:
        return [v] if isinstance(v, str) else list(v)

    explicit_text = [need(c, "text") for c in as_list(text)] if text is not None else None
    explicit_scores: dict[str, str | None] | None = None
    if scores is not None:
        items: Iterable[tuple[str, str | None]] = (
            scores.items() if isinstance(scores, Mapping) else ((c, None) for c in as_list(scores))
        )
        explicit_scores = {}
        for c, k in items:
            col = need(c, "scores")
            if k is not None and str(k).lower() not in SCORE_KINDS:
                raise ConfigError(
                    f"Unknown score kind {k!r} for column {col!r}; expected one of "
                    f"{', '.join(SCORE_KINDS)} (e.g. --score-column '{col}=nps')."
                )
            explicit_scores[col] = str(k).lower() if k is not None else None
    explicit_date = need(date, "date") if date else None
    explicit_segments = (
        [need(c, "segments") for c in as_list(segments)] if segments is not None else None
    )
    explicit_id = need(id, "id") if id else None

    claimed: set[str] = set(explicit_text or []) | set(explicit_scores or {})
    claimed |= {c for c in (explicit_date, explicit_id) if c} | set(explicit_segments or [])

    profiles = {c: _Profile(c, df.iloc[:, i], questions.get(c), i) for i, c in enumerate(columns)}
    meta = {
        c
        for c in columns
        if df.attrs.get("layout") in ("qualtrics", "surveymonkey")
        and (c.lower() in _QUALTRICS_META or c.lower() in _SM_META)
    }

    # --- id
    if explicit_id is not None:
        id_col: str | None = explicit_id
    elif id is False:
        id_col = None
    else:
        id_col = _guess_id(profiles, claimed, notes)
    if id_col:
        claimed.add(id_col)

    # --- scores
    score_map: dict[str, str] = {}
    if explicit_scores is not None:
        for col, kind in explicit_scores.items():
            if kind is None:
                guessed, _ = _guess_kind(profiles[col])
                if guessed is None:
                    guessed = _kind_by_range(profiles[col])
                if guessed is None:
                    raise InputError(
                        f"Cannot tell what kind of score {col!r} in {source} is (values: "
                        f"{_value_examples(df[col])}). Give the kind, e.g. --score-column "
                        f"'{col}=nps', score_columns={{{col!r}: 'nps'}} in Python, or "
                        f"io.score_columns (kinds: {', '.join(SCORE_KINDS)})."
                    )
                kind = guessed
            score_map[col] = kind
    else:
        for col, p in profiles.items():
            if col in claimed or col in meta:
                continue
            kind, why = _guess_kind(p)
            if kind:
                score_map[col] = kind
                notes.append(f"score {col!r} -> {kind}: {why}")
            elif (
                p.nonnull
                and p.numeric_frac >= 0.2
                and any(rx.search(p.label) for rx in (_NPS, _CSAT, _CES, _RATING))
            ):  # named like a score, but its values are not one: say so rather than drop it
                found = (
                    f"only {p.numeric_frac:.0%} of its values are numbers"
                    if p.numeric_frac < 0.8
                    else "it holds two values, read as yes/no"
                    if p.bool_frac >= 0.9 and p.nunique <= 2
                    else f"its values ({np.nanmin(p.nums):g} to {np.nanmax(p.nums):g}) fit no "
                    "score scale"
                    + (
                        " (a rating is 1-5 stars; a 0-10 likelihood to recommend is 'nps')"
                        if _STARS.search(p.label) and not _NPS.search(p.label)
                        else ""
                    )
                )
                notes.append(
                    f"{col!r} is named like a score but {found} "
                    f"({_value_examples(df.iloc[:, p.position], 3)}): not used. To use it, give "
                    f"its kind: --score-column '{col}=KIND' or score_columns={{{col!r}: KIND}} "
                    f"in Python ({', '.join(SCORE_KINDS)}); values that do not fit are then "
                    "explained row by row."
                )
    claimed |= set(score_map)

    # --- date
    if explicit_date is not None:
        date_col: str | None = explicit_date
    elif date is False:
        date_col = None
    else:
        date_col = _guess_date(profiles, claimed)
        if date_col:
            notes.append(f"date {date_col!r}: values parse as dates")
    if date_col:
        claimed.add(date_col)

    # --- text
    if explicit_text is not None:
        text_cols = explicit_text
        if not text_cols:
            raise InputError(f"No text column given for {source}. {_HOW_TO_SET['text']}")
    else:
        text_cols = _guess_text(profiles, claimed | meta, notes)
        if not text_cols:
            roles = {**{c: "segment" for c in explicit_segments or []}, explicit_date: "date",
                     explicit_id: "id", **{c: "score" for c in explicit_scores or {}}}  # fmt: skip
            taken = [c for c in _guess_text(profiles, meta, []) if c in roles]
            if taken:  # the user named the comments as something else
                role = roles[taken[0]]
                raise InputError(
                    f"No free-text column left in {source}: {taken[0]!r} holds the comments but "
                    f"was named as the {role} column. Name the right {role} column, or leave it "
                    "out to have it detected."
                )
            raise InputError(
                f"No free-text column found in {source} (columns: {_list_columns(columns)})"
                + _why_no_text(df, profiles, claimed | meta)
            )
    claimed |= set(text_cols)

    # --- segments
    if explicit_segments is not None:
        segment_cols = explicit_segments
    else:
        segment_cols = _guess_segments(profiles, claimed | meta, notes)

    return ColumnMap(
        text=text_cols,
        scores=score_map,  # type: ignore[arg-type]
        date=date_col,
        segments=segment_cols,
        id=id_col,
        notes=notes,
    )


_TOUCHPOINT = _rx(
    r"touch ?points?|journey|journey stage|stage|channel|sub type|survey sub type|survey type|"
    r"interaction|contact reason|step"
)
_CHURN = _rx(
    r"churn\w*|cancel\w*|attrition|closed|leaver|leavers|left|lapsed|defect\w*|terminated|"
    r"retained|retention|still customer|active"
)
_RETAINED = _rx(r"retained|retention|still customer|active")


def detect_link_columns(
    df: pd.DataFrame,
    exclude: Iterable[str] = (),
    *,
    touchpoint: str | None = None,
    churn: str | None = None,
) -> dict[str, Any]:
    """Find the journey touchpoint / channel column and the churned (cancelled) flag column.

    Kept apart from :func:`detect_columns` so the :class:`ColumnMap` contract stays as it is;
    a touchpoint column found here usually remains a segment too.

    Parameters
    ----------
    df : DataFrame
        The export.
    exclude : iterable of str
        Columns already claimed (text, scores, date, id).
    touchpoint, churn : str, optional
        Explicit columns (``""`` means: none); they must exist.

    Returns
    -------
    dict
        ``{"touchpoint": col or None, "churn": col or None, "churn_inverted": bool,
        "notes": [...]}``. ``churn_inverted`` is true when the column says the customer was
        *retained* (``active``, ``retained``), so a false value means churned.

    Notes
    -----
    - **touchpoint**: a string column of 2-50 repeating short values whose header mentions
      touchpoint, journey, stage, channel, (survey) sub type, interaction or step.
    - **churn**: a column whose header mentions churn, cancel, attrition, closed, left, lapsed
      (or retained / active, read inverted) and whose values are yes/no, true/false or 1/0.
    """
    columns = [str(c) for c in df.columns]
    source = df.attrs.get("source") or "the table"
    notes: list[str] = []
    out: dict[str, Any] = {"touchpoint": None, "churn": None, "churn_inverted": False}
    for key, given in (("touchpoint", touchpoint), ("churn", churn)):
        if given is not None and given != "" and given not in columns:
            raise InputError(
                f"Column {given!r} not found in {source} (columns: {_list_columns(columns)}). "
                f'Set link.{key}_column in your config to an existing column (or "" for none).'
            )
    excluded = set(map(str, exclude))
    profiles = {
        c: _Profile(c, df.iloc[:, i], None, i) for i, c in enumerate(columns) if c not in excluded
    }
    if touchpoint is not None:
        out["touchpoint"] = touchpoint or None
    else:
        for col, p in profiles.items():
            if not _TOUCHPOINT.search(p.header) or not p.textish or p.mean_words > 6:
                continue
            if 2 <= p.nunique <= 50 and p.nunique <= 0.7 * p.nonnull:
                out["touchpoint"] = col
                notes.append(f"touchpoint {col!r}: journey/channel header, {p.nunique} values")
                break
    if churn is not None:
        out["churn"] = churn or None
    else:
        for col, p in profiles.items():
            if col == out["touchpoint"] or not _CHURN.search(p.header):
                continue
            if p.nonnull and p.bool_frac >= 0.9 and p.nunique <= 2:
                out["churn"] = col
                notes.append(f"churn {col!r}: churn/cancel header with yes/no values")
                break
    if out["churn"]:
        out["churn_inverted"] = bool(_RETAINED.search(_norm_label(out["churn"])))
    out["notes"] = notes
    return out


def _why_no_text(df: pd.DataFrame, profiles: dict[str, _Profile], excluded: set[str]) -> str:
    """The end of the "no free-text column" message: what is wrong, and how to fix it.

    A table without rows, or a column named like text (``comment``) that is empty or holds
    numbers, is a different problem from a table where nothing looks like text at all.
    """
    how = _HOW_TO_SET["text"].removeprefix("Name it: ")
    if not len(df):
        return (
            ": the table has no rows. Check that the export includes the responses, or name "
            "the column: " + how
        )
    named = [
        c
        for c, p in profiles.items()
        if c not in excluded and (_TEXT_STRONG.search(p.label) or _TEXT_WEAK.search(p.label))
    ]
    named.sort(key=lambda c: not _TEXT_STRONG.search(profiles[c].label))
    p = profiles[named[0]] if named else None
    if p is not None and p.nonnull == 0:
        return (
            f": column {p.name!r} is empty in every row. Check that the export includes the "
            "answers to the open question, or name the column that holds them: " + how
        )
    if p is not None and (p.is_numeric_dtype or p.numeric_frac >= 0.5):
        only = "only" if p.is_numeric_dtype or p.numeric_frac == 1 else "mostly"
        return (
            f": column {p.name!r} holds {only} numbers "
            f"({_value_examples(df.iloc[:, p.position], 3)}), "
            "not text. Name the column that holds the comments: " + how
        )
    return (
        ". Looked for headers like comment, feedback, review, verbatim, why or text, and for "
        "columns of long, varied text. Name the column: " + how
    )


def _value_examples(s: pd.Series, n: int = 5) -> str:
    vals = [str(v) for v in s.dropna().unique()[:n]]
    return ", ".join(repr(v) for v in vals) + (", ..." if s.dropna().nunique() > n else "")
