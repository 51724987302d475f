"""Write the example notebooks (outputs stripped) from the cells below.

    .venv/bin/python notebooks/make_notebooks.py

Edit the cells here, not the .ipynb files, so the notebooks stay reviewable and output-free.
CI executes them with nbmake (``make test``); each runs in well under a minute on small slices.
"""

# ruff: noqa: E501 - notebook cells are kept as they read in the notebook
from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

SETUP = """\
from pathlib import Path

import pandas as pd

import cxnlp
from cxnlp import plotting, views

# notebooks run from notebooks/ (nbmake, Jupyter) or from the repository root
ROOT = Path.cwd() if (Path.cwd() / "examples").exists() else Path.cwd().parent
OUT = ROOT / "out" / "notebooks"
sample = pd.read_csv(ROOT / "examples" / "clothing_reviews.csv")
sample.shape"""

NOTEBOOKS: dict[str, list[tuple[str, str]]] = {
    "01_quickstart": [
        (
            "md",
            "# Quick start\n\nAnalyse the bundled export of clothing reviews (CC0), look at "
            "the tables and the plots, and write the report. A slice of 200 rows keeps this "
            "under a minute; drop `.head(200)` for the whole file.",
        ),
        ("code", SETUP),
        ("code", 'res = cxnlp.analyze(sample.head(200), codeframe="retail")\nres'),
        ("md", "One row per input row, always: `status` says what happened to each."),
        (
            "code",
            'res.responses[["row_id", "status", "text", "sentiment", "sentiment_score", '
            '"themes"]].head()',
        ),
        ("code", 'res.responses["status"].value_counts()'),
        ("md", "Scores with 95% confidence intervals (`metrics.json` holds the same)."),
        (
            "code",
            'pd.DataFrame(res.metrics["scores"]).T[["kind", "value", "low", "high", "n", '
            '"n_invalid"]]',
        ),
        (
            "md",
            "Themes: one row per (response, theme) with aspect sentiment and the evidence span.",
        ),
        ("code", 'res.mentions[["row_id", "theme", "confidence", "sentiment", "evidence"]].head()'),
        ("code", "views.theme_summary(res).head(10)"),
        ("code", "plotting.plot_sentiment(res)"),
        ("code", "plotting.plot_themes(res)"),
        ("code", "plotting.plot_drivers(res)"),
        ("md", "Every plot carries a text alternative (the report shows it as the caption)."),
        ("code", "plotting.figure_description(plotting.plot_drivers(res))[:300]"),
        ("code", 'written = res.save(OUT / "quickstart")\nsorted(written)'),
    ],
    "02_explore_themes": [
        (
            "md",
            "# Explore themes\n\nWhich themes does the codeframe find, what does topic "
            "discovery find that the codeframe misses, and what moves when the codeframe "
            "is refined?",
        ),
        ("code", SETUP),
        (
            "code",
            'data = sample.head(250)\nres = cxnlp.analyze(data, codeframe="retail")\n'
            "before = views.theme_summary(res)\n"
            'before[["theme", "label", "mentions", "share", "sentiment_score"]].head(12)',
        ),
        (
            "md",
            "## Discovered topics\n\n`Results.topics` holds topics discovered without the "
            "codeframe (when the topics stage ran); `plot_topics` highlights those no "
            "codeframe theme covers. Without topics it says why.",
        ),
        ("code", "plotting.plot_topics(res)"),
        ("code", 'res.topics.head(10) if len(res.topics) else views.unavailable(res, "topics")'),
        (
            "md",
            "Responses no theme matched are never hidden: their status is `no theme`. "
            "Read a few to see what the codeframe misses.",
        ),
        (
            "code",
            'unmatched = res.responses[res.responses["status"] == "no theme"]\n'
            'unmatched["text"].head(8).tolist()',
        ),
        (
            "md",
            "## Refine the codeframe\n\nAdd a theme the retail codeframe lacks (pockets) "
            "and re-run on the same rows; the embeddings are cached, so the re-run is quick.",
        ),
        (
            "code",
            'cf = cxnlp.Codeframe.load("retail")\n'
            "data_cf = cf.model_dump(exclude_none=True)\n"
            'data_cf["name"] = "retail-refined"\n'
            'data_cf["themes"].append({\n'
            '    "id": "pockets", "label": "Pockets",\n'
            '    "description": "Whether it has pockets, pocket size and placement.",\n'
            '    "examples": ["love that it has pockets", "wish it had pockets"],\n'
            '    "keywords": ["pocket", "pockets"], "touchpoint": "product",\n'
            "})\n"
            "refined = cxnlp.Codeframe.from_dict(data_cf)\n"
            'path = OUT / "retail_refined.yaml"\npath.parent.mkdir(parents=True, exist_ok=True)\n'
            "refined.to_yaml(path)\nlen(refined.themes)",
        ),
        (
            "code",
            "res2 = cxnlp.analyze(data, codeframe=str(path))\n"
            "after = views.theme_summary(res2)\n"
            'moved = before[["theme", "mentions"]].merge(\n'
            '    after[["theme", "mentions"]], on="theme", how="outer", suffixes=("_before", "_after")\n'
            ").fillna(0)\n"
            'moved["change"] = moved["mentions_after"] - moved["mentions_before"]\n'
            'moved.sort_values("change", key=abs, ascending=False).head(8)',
        ),
        (
            "code",
            'status = pd.DataFrame({"before": res.responses["status"].value_counts(),\n'
            '                       "after": res2.responses["status"].value_counts()})\n'
            "status",
        ),
    ],
    "03_drivers_and_journey": [
        (
            "md",
            "# NPS drivers and the customer journey\n\nOn the real telecom NPS verbatims "
            "when `../shared/data` is present (a slice of 400), on the bundled sample "
            "otherwise. The driver matrix plots volume × impact from `Results.drivers`; "
            "without a drivers table it shows volume × mean aspect sentiment and says so.",
        ),
        ("code", SETUP),
        (
            "code",
            'nps_file = ROOT.parent / "shared" / "data" / "nps-verbatims-telecom" / '
            '"nps_verbatims.csv"\n'
            "if nps_file.exists():\n"
            "    data = pd.read_csv(nps_file).sample(400, random_state=0)\n"
            '    options = dict(codeframe="telecom", text_column="text",\n'
            '                   score_columns={"NPS_SCORE": "nps"},\n'
            '                   date_column="CUSTOMER_RESPONSE_DATE",\n'
            '                   segment_columns=["SURVEY_SUB_TYPE"])\n'
            "else:\n"
            "    data = sample.head(250)\n"
            '    options = dict(codeframe="retail")\n'
            'print("data:", nps_file.name if nps_file.exists() else "bundled sample", '
            "data.shape)",
        ),
        (
            "code",
            "res = cxnlp.analyze(data, **options)\n"
            'pd.DataFrame(res.metrics["scores"]).T[["kind", "value", "low", "high", "n"]]',
        ),
        ("code", "plotting.plot_drivers(res)"),
        ("code", 'res.drivers.head(10) if len(res.drivers) else views.unavailable(res, "drivers")'),
        ("code", "plotting.plot_journey(res)"),
        ("code", "views.journey(res)"),
        ("code", "plotting.plot_theme_trends(res)"),
        ("code", "views.headline_changes(res)"),
        ("md", "Where the score and the words disagree, scores mislead:"),
        ("code", 'views.disagreements(res, limit=5)[["score", "sentiment", "reason", "text"]]'),
        ("code", "plotting.plot_churn(res)"),
        ("code", 'res.save(OUT / "drivers")["report.html"]'),
    ],
    "04_custom_codeframe_training": [
        (
            "md",
            "# Train a theme head on a few labelled examples\n\nLabel a handful of "
            "sentences per theme, fit the codeframe classifier on the shared embeddings, and "
            "compare zero-shot with trained on held-out sentences.",
        ),
        (
            "code",
            "import numpy as np\n\nimport cxnlp\nfrom cxnlp.themes import CodeframeClassifier",
        ),
        (
            "code",
            "cf = cxnlp.Codeframe.from_dict({\n"
            '    "name": "mini", "version": 1,\n'
            '    "themes": [\n'
            '        {"id": "fit", "label": "Fit & size", "description": "How it fits: runs small or large, tight or loose."},\n'
            '        {"id": "fabric", "label": "Fabric", "description": "The material: soft, thin, scratchy, see-through."},\n'
            '        {"id": "price", "label": "Price", "description": "Price and value for money."},\n'
            '        {"id": "delivery", "label": "Delivery", "description": "Shipping speed and the parcel arriving."},\n'
            "    ],\n"
            "})\n[t.id for t in cf.themes]",
        ),
        (
            "code",
            "labelled = [\n"
            '    ("runs a full size small", "fit"), ("had to size up", "fit"),\n'
            '    ("too tight in the hips", "fit"), ("the waist is huge on me", "fit"),\n'
            '    ("true to size", "fit"), ("sleeves are way too long", "fit"),\n'
            '    ("order one size down", "fit"), ("baggy around the middle", "fit"),\n'
            '    ("the material is so soft", "fabric"), ("very thin and see-through", "fabric"),\n'
            '    ("the knit is itchy", "fabric"), ("cotton feels cheap", "fabric"),\n'
            '    ("lovely heavy linen", "fabric"), ("pilled after one wash", "fabric"),\n'
            '    ("scratchy wool", "fabric"), ("silky and drapes well", "fabric"),\n'
            '    ("way overpriced", "price"), ("great value for the money", "price"),\n'
            '    ("worth every penny", "price"), ("not worth $90", "price"),\n'
            '    ("bought it on sale", "price"), ("too expensive for polyester", "price"),\n'
            '    ("a bargain at this price", "price"), ("cheaper elsewhere", "price"),\n'
            '    ("arrived in two days", "delivery"), ("parcel came late", "delivery"),\n'
            '    ("shipping took three weeks", "delivery"), ("box arrived crushed", "delivery"),\n'
            '    ("fast free shipping", "delivery"), ("still waiting for my order", "delivery"),\n'
            '    ("courier lost the package", "delivery"), ("delivered next day", "delivery"),\n'
            "]\n"
            "texts = [t for t, _ in labelled]\nlabels = [[y] for _, y in labelled]\n"
            "rng = np.random.default_rng(0)\nidx = rng.permutation(len(texts))\n"
            "train, test = idx[:20], idx[20:]\nlen(train), len(test)",
        ),
        (
            "code",
            "encoder = cxnlp.Encoder()\nX = encoder.encode(texts)\n"
            "zero_shot = CodeframeClassifier(cf, encoder)\n"
            "trained = CodeframeClassifier(cf, encoder).fit(\n"
            "    X[train], [labels[i] for i in train], cv=0\n"
            ")\nX.shape",
        ),
        (
            "code",
            "def accuracy(clf):\n"
            "    pred = clf.predict(X[test])\n"
            "    ids = np.array(cf.ids)\n"
            "    top = [ids[row].tolist() for row in np.asarray(pred, bool)]\n"
            "    return np.mean([labels[i][0] in t for i, t in zip(test, top)])\n\n"
            '{"zero-shot": accuracy(zero_shot), "trained": accuracy(trained)}',
        ),
        (
            "md",
            "Save the head (safetensors + JSON, never pickle) and point a run at it with "
            "`themes.model` in the config.",
        ),
        (
            "code",
            "from pathlib import Path\n\n"
            'ROOT = Path.cwd() if (Path.cwd() / "examples").exists() else Path.cwd().parent\n'
            'path = trained.save(ROOT / "out" / "notebooks" / "mini-theme-head")\n'
            "CodeframeClassifier.load(path, encoder=encoder).codeframe_.name",
        ),
    ],
}


def build(name: str, cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}  # fmt: skip
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [new_markdown_cell(src) if kind == "md" else new_code_cell(src)
                for kind, src in cells]  # fmt: skip
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{name[:2]}-{i:02d}"
    return nb


def main() -> None:
    for name, cells in NOTEBOOKS.items():
        path = HERE / f"{name}.ipynb"
        nbformat.write(build(name, cells), path)
        print(f"wrote {path.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
