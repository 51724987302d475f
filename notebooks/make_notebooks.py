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
        ("md", "Where the score and the words disagree, read them to see which is right (the text model can misread a comment; a score can hide a problem):"),
        ("code", 'views.disagreements(res, limit=5)[["score", "sentiment", "reason", "text"]]'),
        ("code", "plotting.plot_churn(res)"),
        ("code", 'res.save(OUT / "drivers")["report.html"]'),
    ],
    "04_custom_codeframe_training": [
        (
            "md",
            "# Train a theme head on a few labelled examples\n\n"
            "The real workflow, end to end: label some sentences from your own export with "
            "the codeframe's themes, train a theme head with the same function "
            "`cxnlp train themes` calls, check it on held-out labels (per-theme precision "
            "and recall, against the zero-shot classifier), then use the head in `analyze`.\n\n"
            "The sentences below come from real reviews in the bundled sample (rows 600 and "
            "later; a few trimmed), labelled by hand with ids of the shipped `retail` codeframe; an empty "
            "list marks a sentence that mentions no theme (a useful negative). Eight to "
            "sixteen examples per theme already help; the 17 held-out sentences give only a rough "
            "check, so label more before trusting small differences.",
        ),
        ("code", SETUP),
        (
            "code",
            "labelled = [\n"
            '    ("I was pleasantly surprised with the fit of this top!", ["fit"]),\n'
            '    ("the bust area was a little loose, and i\'m a 36c.", ["fit"]),\n'
            '    ("fits great, i get compliments every time i wear it.", ["fit"]),\n'
            '    ("Beautiful patterns and colors, but it sits very high and runs small.", ["colour", "fit"]),\n'
            '    ("i tried on a regular s and xs in the store, and the s was huge.", ["fit", "store_staff"]),\n'
            '    ("the color is a great caramel and it fit tts.", ["colour", "fit"]),\n'
            '    ("tried on large but was more roomy than needed, even for a coat.", ["fit"]),\n'
            '    ("i ordered a size smaller than usual and it was still way too big.", ["fit"]),\n'
            '    ("it\'s cut quite generously and i do wish i\'d gone down a size.", ["fit"]),\n'
            '    ("the sizing was great, and i have already worn it so many times.", ["fit"]),\n'
            '    ("Yes, this top runs large and it doesn\'t show your curves, but it\'s still really cute.", ["fit", "style"]),\n'
            '    ("i probably could have sized down for a better fit.", ["fit"]),\n'
            '    ("all would have been ok if the top wasn\'t so darn short.", ["fit"]),\n'
            '    ("i m 5ft 105 lbs curvy , size 00 fit me well", ["fit"]),\n'
            '    ("the material has no give at all.", ["fabric"]),\n'
            '    ("great quality fabric, comfortable and can be dressed up or down.", ["fabric", "quality", "comfort"]),\n'
            '    ("this sweater is incredibly soft, warm and cozy without being heavy.", ["fabric", "comfort"]),\n'
            '    ("it\'s so freaking soft, and the ribbon down the back just gives a little added flare.", ["fabric"]),\n'
            '    ("Great fit and design but the wool is too itchy and rough.", ["fit", "style", "fabric"]),\n'
            '    ("i mean seriously, seriously see-through.", ["fabric"]),\n'
            '    ("the fabric on the back is a starched cotton, not stretchy jersey.", ["fabric"]),\n'
            '    ("Super cute, flattering design but the material is itchy so it\'s going back:(", ["style", "fabric", "returns_refunds"]),\n'
            '    ("the loose fit and light weight material makes it a great summer option.", ["fit", "fabric"]),\n'
            '    ("wish i would have bought all the other colors.", ["colour"]),\n'
            '    ("i love the blush color and did not have the issues others had with it being see-through.", ["colour", "fabric"]),\n'
            '    ("the green color is super rich and is perfect for the season.", ["colour"]),\n'
            '    ("the green color is a deep forest that looks incredible with black and grays.", ["colour"]),\n'
            '    ("i thought i would prefer the black, but am really glad i got the red.", ["colour"]),\n'
            '    ("if it had more colors, i would get it in any color it came in!!", ["colour"]),\n'
            '    ("i fell in love with it when i first saw it and got it in white color.", ["colour"]),\n'
            '    ("i went ahead and ordered the other print as well!", ["colour"]),\n'
            '    ("This is one of those \'i need one in every color\' kind of shirts.", ["colour"]),\n'
            '    ("i got this for $10 which is so cheap and i still returned it!", ["price_value", "returns_refunds"]),\n'
            '    ("overall, it\'s a really pretty blue and the details make it worth it.", ["colour", "price_value"]),\n'
            '    ("it is well made and doesn\'t just look like a run of the mill pullover.", ["quality"]),\n'
            '    ("seems to be holding up fine after one washing.", ["quality"]),\n'
            '    ("Unique print but not great execution.", ["colour", "quality"]),\n'
            '    ("chunky, comfortable, lazy day or dress up with a cool necklace!", ["comfort"]),\n'
            '    ("i can look cute and feel comfy and i can give my yoga pants a break.", ["style", "comfort"]),\n'
            '    ("longer at the front than shown in the photograph.", ["fit", "website_app"]),\n'
            '    ("I thought from the picture this would be a light floaty top.", ["website_app"]),\n'
            '    ("the collar was different than pictured in the stock photo and looked a bit tacky.", ["website_app", "style"]),\n'
            '    ("i exchanged for a 28p at her suggestion, and i just hate them.", ["returns_refunds", "fit"]),\n'
            '    ("I read the previous comments and was skeptical.", []),\n'
            '    ("wish i hadn\'t found this so late!", []),\n'
            '    ("my thoughts, give it a chance.", []),\n'
            '    ("I wanted to love this top, but it unfortunately did not work for me.", []),\n'
            '    ("i wrote a review on the brush strokes as well.", []),\n'
            '    ("so, i do recommend it, but i\'m undecided as to if i\'m going to keep it.", []),\n'
            '    ("This is such an incredible jacket.", []),\n'
            "]\n"
            'labels = pd.DataFrame(labelled, columns=["text", "themes"])\n'
            "held_out = labels.index % 3 == 0  # every third sentence is kept for evaluation\n"
            "train, test = labels[~held_out], labels[held_out]\n"
            "len(train), len(test)",
        ),
        (
            "md",
            "## Train\n\nWrite the training labels as a file (one row per text, themes "
            "separated by `;`), exactly what you would hand to the CLI:\n\n"
            "```\ncxnlp train themes --codeframe retail --labels labels.csv "
            "--out models/themes-shop\n```\n\n"
            "Here we call the function behind that command, `cxnlp.training.themes.train_themes`. "
            "It fits the head, saves it (safetensors + JSON, never pickle) with a model card, "
            "and reports 3-fold cross-validation on the training labels.",
        ),
        (
            "code",
            "from cxnlp.training.themes import train_themes\n\n"
            'work = OUT / "theme-training"\nwork.mkdir(parents=True, exist_ok=True)\n'
            'train.assign(themes=train["themes"].str.join(";")).to_csv(work / "labels.csv", index=False)\n'
            "encoder = cxnlp.Encoder()\n"
            'head = work / "themes-shop"\n'
            'info = train_themes("retail", work / "labels.csv", head, encoder=encoder, cv=3)\n'
            '{k: info[k] for k in ("codeframe", "texts", "texts_without_theme")} | '
            '{"cv micro-F1": info["cv"].get("micro_f1")}',
        ),
        ("code", 'print((head / "MODEL_CARD.md").read_text()[:1200])'),
        (
            "md",
            "## Evaluate on the held-out sentences\n\nPer-theme precision and recall of "
            "the trained head and of the zero-shot classifier (codeframe descriptions, examples "
            "and keywords only) on sentences neither saw. `support` is the number of held-out "
            "sentences labelled with the theme.",
        ),
        (
            "code",
            "import numpy as np\nfrom sklearn.metrics import precision_recall_fscore_support\n\n"
            "from cxnlp.themes import Codeframe, CodeframeClassifier\n\n"
            'cf = Codeframe.load("retail")\n'
            'texts = test["text"].tolist()\nX = encoder.encode(texts)\n'
            'Y = np.array([[t in row for t in cf.ids] for row in test["themes"]])\n'
            "heads = {\n"
            '    "zero-shot": CodeframeClassifier(cf, encoder),\n'
            '    "trained": CodeframeClassifier.load(head, encoder=encoder),\n'
            "}\n"
            "rows = []\n"
            "for name, clf in heads.items():\n"
            "    P = clf.predict(X, texts)\n"
            "    p, r, f, n = precision_recall_fscore_support(Y, P, average=None, zero_division=0)\n"
            "    for k, tid in enumerate(cf.ids):\n"
            "        if n[k]:\n"
            '            rows.append({"theme": tid, "head": name, "precision": p[k], "recall": r[k],\n'
            '                         "f1": f[k], "support": int(n[k])})\n'
            "    mp, mr, mf, _ = precision_recall_fscore_support(Y, P, average=\"micro\", zero_division=0)\n"
            '    rows.append({"theme": "(micro average)", "head": name, "precision": mp,\n'
            '                 "recall": mr, "f1": mf, "support": int(Y.sum())})\n'
            "report = pd.DataFrame(rows).pivot(index=\"theme\", columns=\"head\",\n"
            '                                   values=["precision", "recall", "f1"]).round(2)\n'
            "report",
        ),
        (
            "md",
            "Read it per theme: labelled examples usually lift recall on the themes they "
            "cover, and a theme with few examples can lose precision (the head learns a loose "
            "boundary from three sentences). Label more sentences for the themes whose "
            "precision or recall is low, retrain, and compare again; the cross-validated "
            "figures in the model card come from the training labels only.",
        ),
        (
            "md",
            "## Use the head in `analyze`\n\nPoint a run at the folder with "
            "`themes.model` (in a config file: `themes: {model: models/themes-shop}`) and compare "
            "the themes found with the zero-shot run on the first 150 reviews (rows the "
            "labels did not come from). Topic discovery is switched off to keep this quick.",
        ),
        (
            "code",
            "data = sample.head(150)\n"
            'fast = {"topics.enabled": False}\n'
            'zero = cxnlp.analyze(data, codeframe="retail", **fast)\n'
            'custom = cxnlp.analyze(data, **{"themes.model": str(head)}, **fast)\n'
            'assert custom.manifest["models"]["themes"].startswith(head.name + "@")  # the head, by hash\n'
            'custom.manifest["models"]',
        ),
        (
            "code",
            'compare = views.theme_summary(zero)[["theme", "mentions"]].merge(\n'
            '    views.theme_summary(custom)[["theme", "mentions"]], on="theme", how="outer",\n'
            '    suffixes=("_zero_shot", "_trained")).fillna(0)\n'
            'compare.sort_values("mentions_trained", ascending=False)',
        ),
        ("code", "plotting.plot_themes(custom)"),
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
