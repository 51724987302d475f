"""Recall, precision and speed of ``cxnlp.pii.redact_pii`` on the labelled PII set.

The set is ``tests/data/pii/pii_labelled.jsonl`` (write it with ``make_pii_set.py``). Each
redacted line is aligned back onto the original: the kept text is literal, each ``[KIND]``
placeholder stands for the original characters it replaced. Then

* a planted span is **found** when every letter/digit of it lies under a placeholder (a
  bracket or ``+`` left outside does not leak anything); **typed** when those placeholders
  are also of the planted kind; **partial** when only some of it is covered;
* a placeholder is a **false positive** when it covers no planted character (on a clean line,
  or an extra one on a PII line); precision = placeholders touching PII / all placeholders.

Structured PII (email, phone, card, iban, postcode) is the issue's recall target (>= 0.99).
A second, hand-written **blind** set (``pii_blind.txt``: other countries' phones and IBANs,
cards with dashes, postcodes without a space, other order-number phrasings, clean lines with
European number formats) is scored the same way.

    .venv/bin/python benchmarks/pii.py [--show 5] [--data PATH]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cxnlp.errors import ModelError  # noqa: E402
from cxnlp.pii import PIIRedactor, redact_pii  # noqa: E402

DATA = ROOT / "tests" / "data" / "pii" / "pii_labelled.jsonl"
KINDS = ["email", "phone", "card", "iban", "postcode", "id", "url", "name"]
STRUCTURED = ["email", "phone", "card", "iban", "postcode"]
PLACEHOLDER = re.compile(r"\[(EMAIL|URL|IBAN|CARD|PHONE|POSTCODE|ID|NAME)\]")


def load(path: Path = DATA) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


BLIND = ROOT / "tests" / "data" / "pii" / "pii_blind.txt"
NAMES = ROOT / "tests" / "data" / "pii" / "pii_names.txt"
_MARK = re.compile(r"\{\{(\w+):(.+?)\}\}")


def load_marked(path: Path = BLIND) -> list[dict]:
    """Rows of a hand-written set: one feedback per line, ``{{kind:value}}`` marks the PII."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        text, spans, pos = "", [], 0
        for m in _MARK.finditer(line):
            text += line[pos : m.start()]
            spans.append({"start": len(text), "end": len(text) + len(m.group(2)),
                          "kind": m.group(1)})
            text += m.group(2)
            pos = m.end()
        rows.append({"text": text + line[pos:], "spans": spans})
    return rows


def align(original: str, redacted: str) -> list[tuple[int, int, str]] | None:
    """Spans of ``original`` each placeholder in ``redacted`` replaced, as (start, end, kind).

    None when the redacted text is not the original with some substrings replaced.
    """
    parts = PLACEHOLDER.split(redacted)  # literal, KIND, literal, KIND, ..., literal
    pattern = "".join(re.escape(p) if i % 2 == 0 else "(.+?)" for i, p in enumerate(parts))
    m = re.fullmatch(pattern, original, re.DOTALL)
    if m is None:
        return None
    return [(m.start(g), m.end(g), parts[2 * g - 1].lower()) for g in range(1, len(parts) // 2 + 1)]


def score(rows: list[dict], redact: Callable = redact_pii) -> dict:
    """Everything the report prints, plus example misses / false positives."""
    planted: Counter[str] = Counter()
    found: Counter[str] = Counter()
    typed: Counter[str] = Counter()
    partial: Counter[str] = Counter()
    placed: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fp_clean = 0
    clean_lines = clean_lines_hit = 0
    count_mismatch = unaligned = 0
    misses: dict[str, list] = defaultdict(list)
    mistyped: dict[str, list] = defaultdict(list)
    false_pos: dict[str, list] = defaultdict(list)
    for row in rows:
        text = row["text"]
        out, counts = redact(text)
        if Counter(k.upper() for k in PLACEHOLDER.findall(out)) != Counter(
                {k.upper(): v for k, v in counts.items() if v}):
            count_mismatch += 1
        regions = align(text, out)
        if regions is None:
            unaligned += 1
            regions = []
        covered: dict[int, str] = {}
        for a, b, kind in regions:
            for i in range(a, b):
                covered[i] = kind
        for s in row["spans"]:
            k = s["kind"]
            planted[k] += 1
            chars = [i for i in range(s["start"], s["end"]) if text[i].isalnum()]
            hit = [i for i in chars if i in covered]
            value = text[s["start"]:s["end"]]
            if len(hit) == len(chars):
                found[k] += 1
                kinds_here = {covered[i] for i in hit}
                if kinds_here == {k}:
                    typed[k] += 1
                else:
                    mistyped[k].append((value, sorted(kinds_here), text))
            else:
                if hit:
                    partial[k] += 1
                misses[k].append((value, out, text))
        planted_chars = {i for s in row["spans"] for i in range(s["start"], s["end"])}
        if not row["spans"]:
            clean_lines += 1
            clean_lines_hit += bool(regions)
        for a, b, kind in regions:
            placed[kind] += 1
            if not planted_chars.intersection(range(a, b)):
                fp[kind] += 1
                fp_clean += not row["spans"]
                false_pos[kind].append((text[a:b], out, text))
    n_struct = sum(planted[k] for k in STRUCTURED)
    n_all = sum(planted.values())
    n_placed = sum(placed.values())
    return {
        "lines": len(rows), "pii_lines": len(rows) - clean_lines, "clean_lines": clean_lines,
        "planted": planted, "found": found, "typed": typed, "partial": partial,
        "placed": placed, "fp": fp,
        "recall": {k: found[k] / planted[k] for k in planted},
        "recall_structured": sum(found[k] for k in STRUCTURED) / max(n_struct, 1),
        "recall_all": sum(found.values()) / max(n_all, 1),
        "precision": {k: 1 - fp[k] / placed[k] for k in placed},
        "precision_all": 1 - sum(fp.values()) / max(n_placed, 1),
        "fp_clean": fp_clean, "clean_lines_hit": clean_lines_hit,
        "count_mismatch": count_mismatch, "unaligned": unaligned,
        "misses": misses, "mistyped": mistyped, "false_pos": false_pos,
    }


def throughput(rows: list[dict], redact: Callable = redact_pii, repeat: int = 3) -> float:
    """Lines per second, best of ``repeat`` passes (the first warms ``phonenumbers``)."""
    texts = [row["text"] for row in rows]
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for t in texts:
            redact(t)
        best = min(best, time.perf_counter() - t0)
    return len(texts) / best


def report(res: dict, lps: float, show: int) -> None:
    print(f"{res['lines']} lines: {res['pii_lines']} with planted PII, "
          f"{res['clean_lines']} without")
    print(f"{'kind':<9} {'planted':>7} {'found':>6} {'recall':>7} {'typed':>6} {'partial':>7}"
          f" {'placed':>7} {'FP':>4} {'precision':>9}")
    for k in KINDS:
        n, p = res["planted"][k], res["placed"][k]
        rec = f"{res['found'][k] / n:.3f}" if n else "-"
        prec = f"{1 - res['fp'][k] / p:.3f}" if p else "-"
        print(f"{k:<9} {n:>7} {res['found'][k]:>6} {rec:>7} {res['typed'][k]:>6} "
              f"{res['partial'][k]:>7} {p:>7} {res['fp'][k]:>4} {prec:>9}")
    print(f"recall, structured (email phone card iban postcode): {res['recall_structured']:.4f}"
          f"  [target >= 0.99]")
    print(f"recall, all kinds: {res['recall_all']:.4f}")
    print(f"precision, all placeholders: {res['precision_all']:.4f}  "
          f"({sum(res['fp'].values())} false positives, {res['fp_clean']} of them on clean lines;"
          f" {res['clean_lines_hit']}/{res['clean_lines']} clean lines touched)")
    print(f"counts matching placeholders: {res['lines'] - res['count_mismatch']}/{res['lines']};"
          f" unaligned lines: {res['unaligned']}")
    print(f"throughput: {lps:,.0f} lines/s")
    if not show:
        return
    for title, table in (("MISSES", res["misses"]), ("FALSE POSITIVES", res["false_pos"]),
                         ("FOUND BUT TYPED AS ANOTHER KIND", res["mistyped"])):
        if not table:
            continue
        print(f"\n== {title} ==")
        for k in KINDS:
            for item in table.get(k, [])[:show]:
                a, b, text = item
                print(f"  {k:<8} {a!r:<34} {b!r}" if title.startswith("FOUND")
                      else f"  {k:<8} {a!r:<34} -> {b!r}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--show", type=int, default=5, help="examples per kind of each error")
    args = ap.parse_args()
    rows = load(args.data)
    print(f"== generated set ({args.data.name}) ==")
    report(score(rows), throughput(rows), args.show)
    blind = load_marked()
    print(f"\n== blind set ({BLIND.name}: other countries' formats and phrasings) ==")
    report(score(blind), throughput(blind), args.show)
    names = load_marked(NAMES)
    print(f"\n== person names ({NAMES.name}; optional kind 'name', spaCy en_core_web_sm NER) ==")
    try:
        with_names = PIIRedactor(kinds={*PIIRedactor().kinds, "name"})
        with_names("Thanks Sarah")
    except ModelError as exc:
        print(f"skipped: {exc}")
        return
    report(score(names, with_names), throughput(names, with_names), args.show)


if __name__ == "__main__":
    main()
