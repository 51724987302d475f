"""Accuracy of the shipped sentiment head on public data (needs ../shared/data or $CXNLP_DATA).

Usage::

    python benchmarks/sentiment.py                 # print the table
    python benchmarks/sentiment.py --write-card    # also update models/sentiment/MODEL_CARD.md
    python benchmarks/sentiment.py --backend onnx-int8 --sets airline --speed-n 0

Sets (splits as in data/README.md; none of them trains the shipped model except that the
clothing *train* split does, so its *test* split is in-domain):

* airline tweets, test split ``tweet_id % 5 == 0`` (2,901), 3-way, out of the box;
* UCI Amazon / Yelp / IMDB sentences, binary: positive when p(positive) > p(negative);
* clothing reviews, test split ``id % 5 == 0``, 3-way (1-2 / 3 / 4-5 stars);
* telecom NPS verbatims, test split ``row % 5 == 0``, binary: promoters (9-10) positive,
  detractors (0-6) negative, passives left out; once more for the answers that open with
  "Because" (the survey asked why: a connective, not a complaint).

Documents are scored like the pipeline does: normalise, split into sentences, embed each
sentence once, classify the renormalised mean vector (``mixed`` is not scored here: the
base 3-way label of the document vector is compared with the gold label).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.metrics import accuracy_score, f1_score  # noqa: E402

from cxnlp.clean import normalize  # noqa: E402
from cxnlp.encode import Encoder, embed_documents  # noqa: E402
from cxnlp.sentiment import (  # noqa: E402
    SentimentClassifier,
    document_texts,
    head_proba,
    load_sentiment,
)
from cxnlp.training import load_airline, load_clothing, load_nps_telecom, load_uci  # noqa: E402

CARD_START = "<!-- benchmark:start -->"
CARD_END = "<!-- benchmark:end -->"


def doc_proba(model: SentimentClassifier, encoder: Encoder, texts: list[str]) -> np.ndarray:
    """Probabilities of the documents' vectors, as the pipeline computes them."""
    emb = embed_documents(encoder, [normalize(t) for t in texts])
    return head_proba(model, emb.docs, document_texts(emb.sentences, len(texts)))


def score(name: str, y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    return {
        "set": name,
        "n": len(y_true),
        "accuracy": accuracy_score(y_true, y_pred),
        "macro_f1": f1_score(y_true, y_pred, average="macro"),
    }


# --------------------------------------------------------------------------- accuracy
SETS = ("airline", "uci", "clothing", "nps")


def accuracy_section(
    model: SentimentClassifier, encoder: Encoder, sets: tuple[str, ...] = SETS
) -> list[dict]:
    """3-way and binary accuracy / macro-F1 on the benchmark sets."""
    classes = list(model.classes_)
    ineg, ipos = classes.index("negative"), classes.index("positive")
    rows = []

    air = load_airline("test")
    p = doc_proba(model, encoder, air["text"].tolist())
    rows.append(
        score("airline tweets test (3-way)", air["label"].to_numpy(), model.classes_[p.argmax(1)])
    )
    if sets == ("airline",):
        return rows

    uci = load_uci("all")
    p = doc_proba(model, encoder, uci["text"].tolist())
    binary = np.where(p[:, ipos] > p[:, ineg], "positive", "negative")
    for src in ("amazon", "yelp", "imdb"):
        m = (uci["source"] == src).to_numpy()
        rows.append(score(f"UCI {src} (binary)", uci["label"].to_numpy()[m], binary[m]))
    rows.append(score("UCI all (binary)", uci["label"].to_numpy(), binary))

    cloth = load_clothing("test")
    nonempty = (cloth["text"].str.strip() != "").to_numpy()
    p = doc_proba(model, encoder, cloth["text"][nonempty].tolist())
    rows.append(
        score(
            "clothing test (3-way, non-empty)",
            cloth["label"].to_numpy()[nonempty],
            model.classes_[p.argmax(1)],
        )
    )
    rows += nps_rows(model, encoder, ineg, ipos)
    return rows


def nps_rows(model: SentimentClassifier, encoder: Encoder, ineg: int, ipos: int) -> list[dict]:
    """Promoters vs detractors of the NPS test split, binary like UCI; passives have no label."""
    nps = load_nps_telecom("test")
    nps = nps[(nps["text"].str.strip() != "") & ((nps["label"] >= 9) | (nps["label"] <= 6))]
    p = doc_proba(model, encoder, nps["text"].tolist())
    binary = np.where(p[:, ipos] > p[:, ineg], "positive", "negative")
    truth = np.where(nps["label"] >= 9, "positive", "negative")
    because = nps["text"].str.match(r"\W*because\b", case=False).to_numpy()
    return [
        score("NPS telecom test (binary, promoters vs detractors)", truth, binary),
        score("NPS telecom test, answers opening 'Because'", truth[because], binary[because]),
    ]


# --------------------------------------------------------------------------- speed
# Place for the speed comparison (texts/s of encoder + head vs. alternatives): add a
# ``speed_section(model, encoder) -> list[dict]`` here and call it from main().


def to_markdown(rows: list[dict]) -> str:
    lines = ["| set | n | accuracy | macro-F1 |", "|---|---:|---:|---:|"]
    lines += [
        f"| {r['set']} | {r['n']} | {r['accuracy']:.3f} | {r['macro_f1']:.3f} |" for r in rows
    ]
    return "\n".join(lines)


def write_card(card: Path, table: str) -> None:
    text = card.read_text(encoding="utf-8")
    block = f"{CARD_START}\n{table}\n{CARD_END}"
    pattern = re.compile(re.escape(CARD_START) + ".*?" + re.escape(CARD_END), re.S)
    if not pattern.search(text):
        sys.exit(f"{card} has no {CARD_START} ... {CARD_END} block to update")
    card.write_text(pattern.sub(lambda _: block, text), encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="model folder (default: the shipped one)")
    ap.add_argument("--write-card", action="store_true", help="update the model card table")
    ap.add_argument(
        "--speed-n",
        type=int,
        default=1000,
        help="airline tweets timed in the speed section (0 skips it)",
    )
    ap.add_argument(
        "--backend",
        default="torch",
        choices=["torch", "onnx", "onnx-int8"],
        help="encoder backend (the head is the same; int8 vectors shift it slightly)",
    )
    ap.add_argument(
        "--dtype",
        default="auto",
        choices=["auto", "float32", "bfloat16"],
        help="torch precision (bfloat16 on a CPU: see cxnlp/cpu_bf16.py)",
    )
    ap.add_argument(
        "--sets", default="all", choices=["all", "airline"], help="airline: that set only"
    )
    args = ap.parse_args(argv)
    if args.write_card and (args.backend != "torch" or args.sets != "all" or args.dtype != "auto"):
        sys.exit("--write-card records the default: torch backend, auto dtype, all sets")

    model = load_sentiment(args.model)
    encoder = Encoder(model=model.encoder_model, backend=args.backend, dtype=args.dtype)
    print(f"encoder: {encoder.model_id}")

    # --- accuracy --------------------------------------------------------------------
    t0 = time.perf_counter()
    rows = accuracy_section(model, encoder, SETS if args.sets == "all" else ("airline",))
    table = to_markdown(rows)
    print(pd.DataFrame(rows).to_string(index=False, float_format="%.3f"))
    print(f"(accuracy section: {time.perf_counter() - t0:.0f} s)")

    # --- speed: analyze beside a plain sentence-transformers encode (benchmarks/speed.py) ---
    if args.speed_n:
        from speed import main as speed_main

        speed_main(["--n", str(args.speed_n), "--repeats", "3"])

    if args.write_card:
        card = (Path(args.model) if args.model else _default_dir()) / "MODEL_CARD.md"
        write_card(card, table)
        print(f"updated {card}")


def _default_dir() -> Path:
    from cxnlp.paths import models_dir

    return models_dir() / "sentiment"


if __name__ == "__main__":
    main()
