"""Test helpers shared across folders: tiny random BERTs (hidden 32), a tiny tokenizer, the paper's table, and a
Python process that cannot import compactbert (for the remote-code path), and a bench timer that takes no time."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import torch
from transformers import BertConfig, BertTokenizer

WORDS = (
    "the a an movie film story news sport music game team good bad great awful boring funny is was are not "
    "very and of to in it this that with for on plot actor win lose"
).split()
VOCAB = {token: i for i, token in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS])}
TEXTS = [
    "the movie was very good",
    "a boring film with a bad plot",
    "the team win the game",
    "this is not funny and not great",
]


def tiny_config(num_layers: int = 12, **overrides) -> BertConfig:
    fields = dict(
        vocab_size=len(VOCAB),
        hidden_size=32,
        num_hidden_layers=num_layers,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=64,
    )
    return BertConfig(**(fields | overrides))


def make_bert(cls=None, num_layers: int = 12, seed: int = 0, **overrides):
    """A random BERT of class `cls` (default BertModel) in eval mode, reproducible by seed."""
    from transformers import BertModel

    torch.manual_seed(seed)
    return (cls or BertModel)(tiny_config(num_layers, **overrides)).eval()


def make_tokenizer() -> BertTokenizer:
    return BertTokenizer(vocab=dict(VOCAB))


def spread_classifier(model):
    """Set a sequence classifier's head so that `TEXTS[i]` is label i for i < 3, by a margin of several logits. In
    place; returns the model.

    A random classifier at the default initialisation puts every text within 0.003 of uniform probabilities and in
    the same class, so a variant (an export, a lower precision) that lost its input would still "agree" with it.
    Here each class's weight is the direction of one text's pooled [CLS] vector from the texts' mean, scaled to
    logits of about 5; build the model with a larger `initializer_range` (0.2) so that vector depends on the text.
    """
    batch = make_tokenizer()(TEXTS, padding=True, return_tensors="pt")
    with torch.inference_mode():
        pooled = model.base_model(**batch).pooler_output  # (texts, hidden)
        mean = pooled.mean(0)
        directions = pooled[:3] - mean
        weight = 5.0 * directions / directions.norm(dim=-1, keepdim=True)
        model.classifier.weight.copy_(weight)
        model.classifier.bias.copy_(-weight @ mean)
    return model


def save_spread_classifier(folder, metrics: dict | None = None):
    """Save a tiny 2-layer, 3-label BERT classifier whose head separates `TEXTS` by several logits
    (`spread_classifier`) into `folder`, with `metrics` as its metrics.json when given; returns `folder`."""
    import json

    from transformers import BertForSequenceClassification

    import compactbert

    model = make_bert(BertForSequenceClassification, num_layers=2, num_labels=3, initializer_range=0.2)
    compactbert.save_model(spread_classifier(model), folder, make_tokenizer())
    if metrics is not None:
        (folder / "metrics.json").write_text(json.dumps(metrics))
    return folder


def kept_from_paper_drops(num_layers, dropped_1_based):
    """The issue's table names dropped layers 1..L; kept indices are 0-based."""
    return [i for i in range(num_layers) if i + 1 not in dropped_1_based]


# Poor Man's BERT's strategies for L = 12, as dropped paper layer numbers (1-based).
PAPER_TABLE_L12 = {
    ("top", 2): {11, 12},
    ("top", 4): {9, 10, 11, 12},
    ("top", 6): {7, 8, 9, 10, 11, 12},
    ("bottom", 2): {1, 2},
    ("bottom", 4): {1, 2, 3, 4},
    ("bottom", 6): {1, 2, 3, 4, 5, 6},
    ("even-alternate", 2): {12, 10},
    ("even-alternate", 4): {12, 10, 8, 6},
    ("even-alternate", 6): {12, 10, 8, 6, 4, 2},
    ("odd-alternate", 2): {11, 9},
    ("odd-alternate", 4): {11, 9, 7, 5},
    ("odd-alternate", 6): {11, 9, 7, 5, 3, 1},
    ("symmetric", 2): {6, 7},
    ("symmetric", 4): {5, 6, 7, 8},
    ("symmetric", 6): {4, 5, 6, 7, 8, 9},
}


NO_COMPACTBERT = """\
import sys
sys.modules["compactbert"] = None  # `import compactbert` raises ImportError from here on
try:
    import compactbert
except ImportError:
    pass
else:
    raise SystemExit("compactbert is importable although it should be blocked")
import torch
args = sys.argv[2:]
"""


def run_without_compactbert(body: str, tmp_path, *args: str, env: dict[str, str] | None = None) -> dict:
    """Run `body` in a fresh Python process that cannot import compactbert; return the dict it puts in `result`.

    This is what a user without compactbert installed gets through `trust_remote_code=True`. `body` sees `torch`,
    `sys` and `args` (the strings passed here); `result` may hold tensors, strings and lists. Remote code is copied
    into a fresh `HF_MODULES_CACHE` under `tmp_path`; `env` adds to (or overrides) the environment.
    """
    return run_without_compactbert_output(body, tmp_path, *args, env=env)[0]


def run_without_compactbert_output(
    body: str, tmp_path, *args: str, env: dict[str, str] | None = None
) -> tuple[dict, str, str]:
    """`run_without_compactbert`, also returning the process's stdout and stderr. Its stdin is closed, so a question
    asked with `input()` (transformers' "Do you wish to run the custom code?") cannot be answered: it shows in stdout
    and the question's caller gets an error."""
    script, out = tmp_path / "no_compactbert.py", tmp_path / "no_compactbert_result.pt"
    script.write_text(NO_COMPACTBERT + textwrap.dedent(body) + "\ntorch.save(result, sys.argv[1])\n")
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    environment |= {"HF_MODULES_CACHE": str(tmp_path / "modules")} | (env or {})
    done = subprocess.run(
        [sys.executable, str(script), str(out), *args], cwd=tmp_path, env=environment, capture_output=True, text=True,
        timeout=300, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return torch.load(out), done.stdout, done.stderr


def fake_timer(medians: dict[str, float], default: float = 100.0):
    """A stand-in for the bench's `time_side_by_side`: every callable 'takes' its given median (3 samples around it)."""

    from compactbert.inference import Timing

    def timer(fns, repeats, warmup, progress=False, min_sample_ms=0.0):
        return {
            name: Timing(
                [0.9 * medians.get(name, default), medians.get(name, default), 1.2 * medians.get(name, default)]
            )
            for name in fns
        }

    return timer
