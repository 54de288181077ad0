"""compactbert.inference: loading for inference (dtype, head, errors) and interleaved timing."""

import json
import random

import numpy as np
import pytest
import torch
from transformers import BertForSequenceClassification

import compactbert
from compactbert.inference import (
    Timing,
    configure_threads,
    load_for_inference,
    prepare_for_inference,
    resolve_dtype,
    time_side_by_side,
)

from support.helpers import TEXTS, WORDS, make_bert

LABELS = {0: "negative", 1: "neutral", 2: "positive"}
_rng = random.Random(0)
MANY_TEXTS = TEXTS + [" ".join(_rng.choices(WORDS, k=_rng.randint(3, 12))) for _ in range(28)]
LOGIT_SPREAD = 8.0  # the standard deviation of the classifier's logits over MANY_TEXTS
CONFIDENT_MARGIN = 1.0  # a prediction counts as confident when its top two logits are at least this far apart


def make_confident(model, tokenizer, texts=MANY_TEXTS, spread=LOGIT_SPREAD):
    """Set the classifier so that its logits on `texts` are large and vary, in place: a converted copy that lost its
    weights cannot then stay close to the fp32 one by chance (near-uniform probabilities all look alike).

    The pooled outputs of `texts` are centred and projected on their two main directions of variation; the three
    labels point 120 degrees apart in that plane, so every label wins on some texts. Returns the model.
    """
    batch = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        pooled = model.base_model(**batch).pooler_output
        mean = pooled.mean(0)
        directions = torch.linalg.svd(pooled - mean, full_matrices=False).Vh[:2]
        angles = torch.arange(3) * (2 * torch.pi / 3)
        weight = torch.cos(angles)[:, None] * directions[0] + torch.sin(angles)[:, None] * directions[1]
        scale = spread / ((pooled - mean) @ weight.T).std()
        model.classifier.weight.copy_(scale * weight)
        model.classifier.bias.copy_(-scale * weight @ mean)
    return model


def logits_of(loaded, texts=MANY_TEXTS) -> torch.Tensor:
    return loaded.forward(loaded.encode(texts)).logits.float()


def assert_stays_close(converted: torch.Tensor, fp32: torch.Tensor, max_abs: float, mean_abs: float):
    """The converted model predicts what fp32 predicts wherever fp32 is confident, and its logits stay within
    `max_abs` (every logit) and `mean_abs` (on average) of fp32's."""
    top_two = fp32.topk(2, dim=-1).values
    confident = (top_two[:, 0] - top_two[:, 1]) >= CONFIDENT_MARGIN
    predicted = fp32.argmax(-1)
    # the check below has teeth only if most texts are confident and every label is predicted on some
    assert confident.float().mean() >= 0.75 and set(predicted[confident].tolist()) == set(LABELS)
    assert converted.argmax(-1)[confident].tolist() == predicted[confident].tolist()
    difference = (converted - fp32).abs()
    assert difference.max() <= max_abs, f"largest logit difference {difference.max():.3f} > {max_abs}"
    assert difference.mean() <= mean_abs, f"mean logit difference {difference.mean():.3f} > {mean_abs}"


@pytest.fixture
def classifier_folder(tmp_path, tokenizer):
    # initializer_range 0.2 (not 0.02): the texts' pooled outputs then differ well above bf16 rounding
    model = make_bert(
        BertForSequenceClassification, num_layers=4, num_labels=3, id2label=LABELS, initializer_range=0.2
    )
    shrunk = make_confident(compactbert.shrink(model, "top", num_drop=2), tokenizer)
    folder = tmp_path / "model"
    compactbert.save_model(shrunk, folder, tokenizer)
    return folder


def test_fp32_probabilities_match_a_plain_forward(classifier_folder, tokenizer):
    loaded = load_for_inference(classifier_folder, dtype="fp32")
    assert loaded.dtype == torch.float32 and not loaded.model.training
    assert loaded.model.config._attn_implementation == "sdpa"
    assert loaded.label_names == ["negative", "neutral", "positive"]

    probabilities = loaded.predict_proba(TEXTS)
    reference = compactbert.ShrunkBertForSequenceClassification.from_pretrained(classifier_folder).eval()
    with torch.no_grad():
        batch = tokenizer(TEXTS, padding=True, truncation=True, max_length=128, return_tensors="pt")
        expected = reference(**batch).logits.softmax(-1).numpy()
    assert probabilities.shape == (len(TEXTS), 3)
    assert probabilities == pytest.approx(expected, abs=1e-5)

    predictions = loaded.predict(TEXTS[:2])
    assert [p["label"] for p in predictions] == [LABELS[int(i)] for i in expected[:2].argmax(-1)]
    assert sum(predictions[0]["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)


def test_a_multi_label_head_scores_each_label_as_the_pipeline_does(classifier_folder, tokenizer):
    from transformers import pipeline

    config = classifier_folder / "config.json"
    config.write_text(json.dumps(json.loads(config.read_text()) | {"problem_type": "multi_label_classification"}))
    loaded = load_for_inference(classifier_folder, dtype="fp32")
    assert loaded.config.problem_type == "multi_label_classification"
    scores = pipeline("text-classification", model=str(classifier_folder), top_k=None)(TEXTS)
    expected = np.array(
        [[next(s["score"] for s in row if s["label"] == name) for name in LABELS.values()] for row in scores]
    )
    assert loaded.predict_proba(TEXTS) == pytest.approx(expected, abs=1e-5)  # sigmoids: they need not sum to 1
    for prediction, row in zip(loaded.predict(TEXTS), expected, strict=True):
        assert prediction["label"] == LABELS[int(row.argmax())]
        assert prediction["labels"] == [LABELS[int(i)] for i in np.argsort(-row) if row[i] >= 0.5]
    assert any(len(p["labels"]) > 1 for p in loaded.predict(MANY_TEXTS))  # the check has teeth


def test_a_regression_head_has_no_label_probabilities(tmp_path, tokenizer):
    model = make_bert(BertForSequenceClassification, num_layers=2, num_labels=1)
    compactbert.save_model(compactbert.shrink(model, "top", num_drop=1), tmp_path / "model", tokenizer)
    loaded = load_for_inference(tmp_path / "model", dtype="fp32")
    for call in (loaded.predict_proba, loaded.predict):
        with pytest.raises(ValueError, match=r"regression head .* forward\(encode\(texts\)\).logits"):
            call(TEXTS)
    assert logits_of(loaded, TEXTS).shape == (len(TEXTS), 1)


def test_text_pairs_are_read_with_their_texts(classifier_folder, tokenizer):
    loaded = load_for_inference(classifier_folder, dtype="fp32")
    pairs = list(reversed(TEXTS))
    reference = compactbert.ShrunkBertForSequenceClassification.from_pretrained(classifier_folder).eval()
    with torch.no_grad():
        batch = tokenizer(TEXTS, pairs, padding=True, truncation=True, max_length=128, return_tensors="pt")
        expected = reference(**batch).logits.softmax(-1).numpy()
    assert loaded.predict_proba(TEXTS, text_pairs=pairs) == pytest.approx(expected, abs=1e-5)
    assert not loaded.predict_proba(TEXTS) == pytest.approx(expected, abs=1e-5)  # the pairs changed the answer
    with pytest.raises(ValueError, match=r"text_pairs has 1 texts; expected one per text \(4\)"):
        loaded.predict_proba(TEXTS, text_pairs=pairs[:1])


def test_bf16_casts_the_weights_and_stays_close(classifier_folder):
    fp32 = load_for_inference(classifier_folder, dtype="fp32")
    bf16 = load_for_inference(classifier_folder, dtype="bf16")
    assert {p.dtype for p in bf16.model.parameters()} == {torch.bfloat16}
    # logits spread 8: here bf16 moves them by 0.08 on average, 0.25 at most; every weight zeroed in the cast moves
    # them by 6.5 on average, every weight rounded to fp8 (e4m3) by 0.38 (1.6 at most)
    assert_stays_close(logits_of(bf16), logits_of(fp32), max_abs=0.75, mean_abs=0.2)


def test_base_task_loads_the_encoder_and_a_runner_runs_it(classifier_folder):
    loaded = load_for_inference(classifier_folder, task="base", dtype="fp32")
    assert type(loaded.model).__name__ == "ShrunkBertModel"
    assert loaded.num_parameters == sum(p.numel() for p in loaded.model.parameters())
    output = loaded.runner(TEXTS[:2], max_length=16)()
    assert output.last_hidden_state.shape[0] == 2
    with pytest.raises(ValueError, match="no classification head"):
        loaded.predict_proba(TEXTS)


def test_a_loaded_model_needs_a_tokenizer_unless_its_folder_has_one(classifier_folder, tokenizer):
    model = make_bert(BertForSequenceClassification, num_layers=2, num_labels=3)
    with pytest.raises(ValueError, match="tokenizer="):
        load_for_inference(model)
    assert load_for_inference(model, tokenizer=tokenizer, dtype="fp32").predict_proba(TEXTS).shape == (len(TEXTS), 3)


def test_bad_arguments_say_what_was_expected(classifier_folder):
    with pytest.raises(ValueError, match="expected 'auto' or one of"):
        resolve_dtype("fp16")
    with pytest.raises(ValueError, match="unknown task"):
        load_for_inference(classifier_folder, task="token-classification")
    with pytest.raises(TypeError, match="takes a list of texts, not one string"):
        load_for_inference(classifier_folder, dtype="fp32").predict_proba("one string")
    with pytest.raises(ValueError, match="threads must be >= 1"):
        configure_threads(0)


def test_auto_dtype_follows_the_hardware(monkeypatch):
    monkeypatch.setattr("compactbert.inference.native_bf16", lambda: True)
    assert resolve_dtype("auto") == torch.bfloat16
    monkeypatch.setattr("compactbert.inference.native_bf16", lambda: False)
    assert resolve_dtype("auto") == torch.float32


def test_threads_follow_omp_num_threads_then_the_cores(monkeypatch):
    before = torch.get_num_threads()
    try:
        monkeypatch.setenv("OMP_NUM_THREADS", "1")
        assert configure_threads() == 1 and torch.get_num_threads() == 1
        monkeypatch.delenv("OMP_NUM_THREADS")
        monkeypatch.setattr("compactbert.inference.available_cores", lambda: 2)
        assert configure_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_timing_is_interleaved_after_warmup():
    calls = []
    fns = {name: (lambda name=name: calls.append(name)) for name in "abc"}
    timings = time_side_by_side(fns, repeats=4, warmup=1)
    assert calls == list("abc") + list("abc") + list("cba") + list("abc") + list("cba")
    assert all(len(t.samples_ms) == 4 for t in timings.values())
    with pytest.raises(ValueError, match="repeats must be >= 1"):
        time_side_by_side(fns, repeats=0)
    with pytest.raises(ValueError, match="nothing to time"):
        time_side_by_side({})


def test_min_sample_time_repeats_fast_calls_and_reports_the_mean_of_one(monkeypatch):
    clock = {"now": 0.0}
    monkeypatch.setattr("compactbert.inference.time.perf_counter", lambda: clock["now"])
    calls = {"fast": 0, "slow": 0}

    def make(name, seconds):
        def run():
            calls[name] += 1
            clock["now"] += seconds

        return run

    fns = {"fast": make("fast", 0.002), "slow": make("slow", 0.050)}  # 2 ms and 50 ms per call
    timings = time_side_by_side(fns, repeats=3, warmup=1, min_sample_ms=20.0)
    assert timings["fast"].calls_per_sample == 10 and timings["slow"].calls_per_sample == 1
    assert calls == {"fast": 1 + 3 * 10, "slow": 1 + 3}
    assert timings["fast"].samples_ms == pytest.approx([2.0] * 3)  # per call, not per sample
    assert timings["slow"].samples_ms == pytest.approx([50.0] * 3)
    # no warm-up asked for: one untimed call per callable still calibrates
    calls.update(fast=0, slow=0)
    timings = time_side_by_side(fns, repeats=2, warmup=0, min_sample_ms=20.0)
    assert calls == {"fast": 1 + 2 * 10, "slow": 1 + 2}
    with pytest.raises(ValueError, match="min_sample_ms must be >= 0"):
        time_side_by_side(fns, min_sample_ms=-1)


def test_timing_statistics():
    timing = Timing([3.0, 1.0, 2.0, 10.0])
    assert (timing.median_ms, timing.min_ms, timing.max_ms) == (2.5, 1.0, 10.0)
    assert timing.as_dict()["samples_ms"] == [3.0, 1.0, 2.0, 10.0]


def test_sorted_batches_pad_less_and_keep_the_order(classifier_folder):
    loaded = load_for_inference(classifier_folder, dtype="fp32")
    texts = [
        "good",
        "the movie was very good and the story was great",
        "bad",
        "a boring film with a bad plot and actor",
    ]
    shapes = []
    forward = loaded.forward
    loaded.forward = lambda encoded: shapes.append(tuple(encoded["input_ids"].shape)) or forward(encoded)
    unsorted = loaded.predict_proba(texts, batch_size=2, sort_by_length=False)
    padded_unsorted, shapes[:] = sum(b * s for b, s in shapes), []
    by_length = loaded.predict_proba(texts, batch_size=2)
    assert sum(b * s for b, s in shapes) < padded_unsorted
    one_by_one = np.concatenate([loaded.predict_proba([t]) for t in texts])
    assert by_length == pytest.approx(one_by_one, abs=1e-5) and unsorted == pytest.approx(one_by_one, abs=1e-5)
    assert loaded.predict_proba([]).shape == (0, 3)
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        loaded.predict_proba(texts, batch_size=0)


def test_prepare_for_inference_switches_to_sdpa_eval_and_the_dtype():
    model = make_bert(BertForSequenceClassification, num_layers=2, num_labels=3).train()
    model.set_attn_implementation("eager")
    assert prepare_for_inference(model, "bf16") is model
    assert model.config._attn_implementation == "sdpa" and not model.training
    assert {p.dtype for p in model.parameters()} == {torch.bfloat16}


def test_timing_progress_bar_keeps_the_interleaving(capsys):
    calls = []
    fns = {name: (lambda name=name: calls.append(name)) for name in "ab"}
    time_side_by_side(fns, repeats=2, warmup=1, progress="label")
    assert calls == list("ab") + list("ab") + list("ba")
    assert "label" in capsys.readouterr().err


def test_int8_quantization_is_an_fp32_cpu_option_close_to_fp32(classifier_folder):
    fp32 = logits_of(load_for_inference(classifier_folder, dtype="fp32"))
    int8 = load_for_inference(classifier_folder, quantize="int8")
    assert int8.dtype == torch.float32
    modules = list(int8.model.modules())
    assert not any(type(m) is torch.nn.Linear for m in modules)  # every nn.Linear was replaced
    assert (
        sum(isinstance(m, torch.ao.nn.quantized.dynamic.Linear) for m in modules) == 2 * 6 + 2
    )  # 2 layers, pooler, head
    # logits spread 8: here int8 moves them by 0.27 on average, 0.77 at most; every weight zeroed before quantizing
    # moves them by 6.5 on average, every weight rounded to fp8 (e4m3) first by 0.56 (2.6 at most)
    assert_stays_close(logits_of(int8), fp32, max_abs=2.0, mean_abs=0.45)
    with pytest.raises(ValueError, match="runs fp32 activations"):
        load_for_inference(classifier_folder, dtype="bf16", quantize="int8")
    with pytest.raises(ValueError, match="unknown quantize"):
        load_for_inference(classifier_folder, quantize="int4")
