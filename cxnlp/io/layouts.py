"""Survey-tool header layouts (Qualtrics, SurveyMonkey) and the final table every reader
ends with (:func:`_finish`): one header row, unique column names, string columns.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from ..errors import NoResponses, ReadWarning

_STR_DTYPE: Any = "str" if int(pd.__version__.split(".")[0]) >= 3 else object


_IMPORT_ID = re.compile(r'^\s*\{\s*"ImportId"\s*:')
_QUALTRICS_META = {
    "startdate", "enddate", "status", "ipaddress", "progress", "duration (in seconds)",
    "finished", "recordeddate", "responseid", "recipientlastname", "recipientfirstname",
    "recipientemail", "externalreference", "externaldatareference", "locationlatitude",
    "locationlongitude", "distributionchannel", "userlanguage", "responseset", "responsetype",
    "q_recaptchascore", "q_relevantidduplicate", "q_relevantidduplicatescore",
    "q_relevantidfraudscore", "q_relevantidlaststartdate",
}  # fmt: skip
_SM_META = {
    "respondent id", "collector id", "start date", "end date", "ip address", "email address",
    "first name", "last name", "custom data 1", "custom data",
}  # fmt: skip
_SM_SUBS = {"response", "open-ended response"}


def _detect_layout(header: list[str], head: list[list[Any]]) -> tuple[str, int]:
    """Return (layout, number of extra header rows at the top of the body)."""
    r1 = [
        (v or "").strip() if isinstance(v, str) or v is None else str(v)
        for v in (head[0] if head else [])
    ]
    r2 = [
        (v or "").strip() if isinstance(v, str) or v is None else str(v)
        for v in (head[1] if len(head) > 1 else [])
    ]
    filled = [v for v in r2 if v]
    if filled and sum(bool(_IMPORT_ID.match(v)) for v in filled) >= 0.5 * len(filled):
        return "qualtrics", 2
    low = [h.lower() for h in header]
    if "responseid" in low:
        i = low.index("responseid")
        if i < len(r1) and r1[i].lower() in ("response id", "responseid"):
            return "qualtrics", 1  # legacy two-row export
    subs = sum(v.lower() in _SM_SUBS for v in r1)
    if subs:
        meta = sum(h in _SM_META for h in low)
        filled1 = [v for v in r1 if v]
        if meta >= 2 or (subs >= 2 and subs >= 0.3 * len(filled1) and "" in header):
            return "surveymonkey", 1
    return "plain", 0


def _layout_columns(
    layout: str, header: list[str], head: list[list[Any]]
) -> tuple[list[str], dict[str, str]]:
    if layout == "qualtrics":
        names = _dedupe(header)
        texts = head[0] if head else []
        questions = {
            n: " ".join(str(t).split())
            for n, t in zip(names, texts, strict=False)
            if t and str(t).strip() and str(t).strip() != n
        }
        return names, questions
    # SurveyMonkey: a question spans its column and the empty header cells after it.
    subs = [((v or "").strip() if isinstance(v, str) or v is None else str(v)) for v in head[0]]
    subs = (subs + [""] * len(header))[: len(header)]
    spans: list[int] = []
    current = ""
    question: list[str] = []
    for i, h in enumerate(header):
        if h or i == 0:
            current = h
            spans.append(i)
        question.append(current)
    first_of_span = set(spans)
    raw_names: list[str] = []
    for i, (q, sub) in enumerate(zip(question, subs, strict=True)):
        spans_many = (i + 1 < len(header) and not header[i + 1] and i in first_of_span) or (
            i not in first_of_span
        )
        if not sub or (sub.lower() in _SM_SUBS and (i in first_of_span or not q)):
            raw_names.append(q or sub)
        elif not q:
            raw_names.append(sub)
        elif spans_many or sub.lower() not in _SM_SUBS:
            raw_names.append(f"{q} - {sub}" if q != sub else q)
        else:
            raw_names.append(q)
    names = _dedupe([" ".join(n.split()) for n in raw_names])
    questions = {n: " ".join(q.split()) for n, q in zip(names, question, strict=True) if q}
    return names, questions


def _dedupe(names: Sequence[str]) -> list[str]:
    out: list[str] = []
    seen: dict[str, int] = {}
    taken = set()
    for i, n in enumerate(names):
        n = n if n else f"Unnamed: {i}"
        base = n
        k = seen.get(base, 0)
        while n in taken:
            k += 1
            n = f"{base}.{k}"
        seen[base] = k
        taken.add(n)
        out.append(n)
    return out


def _as_str_series(values: Iterable[Any]) -> pd.Series:
    s = pd.Series(list(values), dtype=object)
    if len(s):
        s = s.where(s.notna() & (s != ""), None)
    return s.astype(_STR_DTYPE) if _STR_DTYPE is not object else s


def _finish(
    header: list[str], body: list[list[Any]], attrs: dict[str, Any], name: str
) -> pd.DataFrame:
    """Apply a survey layout, drop empty rows and columns, and build the string table."""
    layout, skip = _detect_layout(header, body[:2])
    if layout == "plain":
        columns, questions = _dedupe(header), {}
    else:
        columns, questions = _layout_columns(layout, header, body[:skip])
        body = body[skip:]
    width = len(columns)
    # All-empty rows are not responses; warn when they sit between responses.
    keep: list[list[Any]] = []
    inner_empty = 0
    pending = 0
    for row in body:
        if any(v is not None and str(v).strip() != "" for v in row):
            inner_empty += pending
            pending = 0
            keep.append(row)
        else:
            pending += 1
    if inner_empty:
        warnings.warn(
            f"{name}: skipped {inner_empty} empty row(s) between responses (every cell empty).",
            ReadWarning,
            4,
        )
    # Trailing columns with neither a header nor a value are artefacts (a trailing delimiter).
    while (
        layout == "plain"
        and width > 1
        and header[width - 1] == ""
        and all(r[width - 1] in (None, "") for r in keep if len(r) >= width)
    ):
        width -= 1
    columns = columns[:width]
    data = {c: _as_str_series(r[j] for r in keep) for j, c in enumerate(columns)}
    df = pd.DataFrame(data, columns=columns)
    df.index = pd.RangeIndex(len(df))
    _check_rows(df, name, layout, skip)
    df.attrs.update(source=name, layout=layout, questions=questions, header_rows=skip + 1, **attrs)
    return df


def _check_rows(df: pd.DataFrame, name: str, layout: str, skip: int) -> None:
    if len(df):
        return
    cols = _list_columns(df.columns)
    what = {
        "qualtrics": f"the {skip + 1} Qualtrics header rows",
        "surveymonkey": "the 2 SurveyMonkey header rows",
    }.get(layout, "a header row")
    raise NoResponses(
        f"{name} has {what} ({cols}) but no responses. Check that the export includes the "
        "responses (filters, date range) and export it again.",
        [str(c) for c in df.columns],
    )


def _list_columns(columns: Iterable[Any], limit: int = 12) -> str:
    cols = [str(c) for c in columns]
    shown = ", ".join(cols[:limit])
    return shown + (f", ... ({len(cols)} in all)" if len(cols) > limit else "")
