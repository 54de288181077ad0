"""A published model of every family, used by someone who has only transformers (no compactbert), from the Hub.

In a process that cannot import compactbert, with its stdin closed (a question would go unanswered) and against the
local Hub stand-in: `AutoTokenizer.from_pretrained(repo, trust_remote_code=True)`, `pipeline("text-classification",
model=repo, trust_remote_code=True)` and `BertTokenizer.from_pretrained(repo)` load with no prompt and no warning (the
transformers logger, Python warnings, stdout and stderr are all read; the one notice left is transformers' own
"a new version of the following files was downloaded" that comes with any repo's code), and the pipeline's scores are
the model's.

`AutoTokenizer.from_pretrained(repo)` with no flag at all is not among them: transformers 5 reads the model's config
before the tokenizer's (`AutoTokenizer.from_pretrained` calls `AutoConfig.from_pretrained` first), that config needs the
repo's code, and transformers asks before running code; no file in the repo can change that while the family keeps
its own `model_type`. The last test pins that down, so the card's advice is checked against what transformers does.
"""

from __future__ import annotations

import pytest
import torch

from compactbert import save_model
from compactbert.models import FAMILIES, list_families

from support.helpers import TEXTS, VOCAB, make_tokenizer, run_without_compactbert_output

TINY = dict(
    vocab_size=len(VOCAB),
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=2,
    intermediate_size=37,
    max_position_embeddings=64,
    num_labels=3,
    id2label={0: "sport", 1: "music", 2: "news"},
    label2id={"sport": 0, "music": 1, "news": 2},
)
PROMPT = "Do you wish to run the custom code"
# transformers' notice whenever it fetches a repo's code without a pinned revision (`revision=` silences it)
CODE_NOTICE = "transformers.dynamic_module_utils: A new version of the following files was downloaded"

LOAD = """
import logging
import warnings

records = []


class Keep(logging.Handler):
    def emit(self, record):
        records.append(f"{record.name}: {record.getMessage()}")


logging.getLogger("transformers").addHandler(Keep(level=logging.WARNING))
warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    from transformers import AutoTokenizer, BertTokenizer, pipeline

    auto = AutoTokenizer.from_pretrained(args[0], trust_remote_code=True)
    plain = BertTokenizer.from_pretrained(args[0])
    classifier = pipeline("text-classification", model=args[0], trust_remote_code=True, top_k=None)
    scores = classifier(list(args[1:]))
result = {
    "auto": type(auto).__name__,
    "plain": type(plain).__name__,
    "pipeline_tokenizer": type(classifier.tokenizer).__name__,
    "model_module": type(classifier.model).__module__,
    "ids": [auto(text)["input_ids"] for text in args[1:]],
    "scores": [{d["label"]: d["score"] for d in row} for row in scores],
    "log": records,
    "warnings": [str(w.message) for w in caught],
}
"""

NO_FLAG = """
from transformers import AutoTokenizer

tokenizer = AutoTokenizer.from_pretrained(args[0])
result = {"tokenizer": type(tokenizer).__name__}
"""


def family_folder(model_type: str, path):
    torch.manual_seed(0)
    family = FAMILIES[model_type]
    model = family.auto_classes()["AutoModelForSequenceClassification"](family.config_class()(**TINY)).eval()
    return save_model(model, path, tokenizer=make_tokenizer()), model


@pytest.mark.parametrize("model_type", list_families())
def test_tokenizer_and_pipeline_load_without_compactbert_prompt_or_warning(model_type, hub, tmp_path):
    folder, model = family_folder(model_type, tmp_path / model_type)
    repo = f"org/{model_type.replace('_', '-')}-plain"
    hub.create_model_repo(repo, folder)

    result, out, err = run_without_compactbert_output(LOAD, tmp_path, repo, *TEXTS)

    assert PROMPT not in out + err, out + err
    assert "model of type" not in out + err and result["warnings"] == []
    # the one notice left is transformers' own about any repo's code (accurate, not about this model's type)
    assert [r for r in result["log"] if not r.startswith(CODE_NOTICE)] == [], result["log"]
    assert result["auto"] == result["plain"] == result["pipeline_tokenizer"] == "BertTokenizer"
    assert result["model_module"].startswith("transformers_modules.")  # the repo's code, not compactbert's
    assert result["ids"] == [make_tokenizer()(text)["input_ids"] for text in TEXTS]
    with torch.no_grad():  # the pipeline's scores are this model's
        batch = make_tokenizer()(TEXTS, padding=True, return_tensors="pt")
        expected = model(**batch).logits.softmax(-1)
    for row, probabilities in zip(result["scores"], expected, strict=True):
        got = torch.tensor([row[TINY["id2label"][i]] for i in range(3)])
        torch.testing.assert_close(got, probabilities, rtol=1e-4, atol=1e-5)


def test_auto_tokenizer_with_no_flag_still_asks_because_the_config_needs_code(hub, tmp_path):
    """What transformers does, so the card's advice stays true: no flag -> the question (unanswered here: stdin is
    closed), then a fallback with a warning about `shrunk_bert`. If this starts failing, transformers changed and the
    card's sentence about it can go."""
    folder, _ = family_folder("shrunk_bert", tmp_path / "shrunk")
    hub.create_model_repo("org/no-flag", folder)
    result, out, err = run_without_compactbert_output(NO_FLAG, tmp_path, "org/no-flag")
    assert PROMPT in out and "model of type `shrunk_bert`" in err
    assert result["tokenizer"] == "BertTokenizer"
    card = (folder / "README.md").read_text()
    assert "`BertTokenizer.from_pretrained(" in card and "trust_remote_code=True)`" in card
