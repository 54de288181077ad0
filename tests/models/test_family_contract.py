"""The contract every registered family keeps, checked on each of its heads (timm-style: the cases are generated from
the registry, so a family is tested the day it is registered).

What transformers' own model tests check, on tiny random configs (hidden 32, 2 layers): each head is registered with
its Auto class; `return_dict=False` gives the same tuple as `ModelOutput.to_tuple()`; `output_attentions` /
`output_hidden_states`; gradient checkpointing turned on from the config; save/load round trip; SDPA equals eager;
a padded batch gives each row's single-example outputs; `torch.export`; every trainable parameter gets a gradient
in a training step (so DDP needs no `find_unused_parameters`); the config refuses contradictions on load; the saved
folder loads as remote code in a process that cannot import compactbert.
"""

from __future__ import annotations

import inspect
import json

import pytest
import torch
import torch.utils._pytree as pytree
import transformers
from transformers import AutoConfig
from transformers.modeling_layers import GradientCheckpointingLayer
from transformers.utils import find_labels

import compactbert
from compactbert.models import FAMILIES, list_families

from support.helpers import TEXTS, VOCAB, make_tokenizer, run_without_compactbert

TINY = dict(
    vocab_size=len(VOCAB),
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=2,
    intermediate_size=37,
    max_position_embeddings=64,
)
NUM_CHOICES = 2
SENTENCE_LABELS = ("next_sentence_label", "sentence_label")  # BERT's NSP head, Albert-SOP's SOP / NSP head

HEADS = [
    (model_type, auto_name) for model_type in list_families() for auto_name in FAMILIES[model_type].auto_classes()
]
HEAD_IDS = [f"{model_type}-{auto_name}" for model_type, auto_name in HEADS]
heads = pytest.mark.parametrize(("model_type", "auto_name"), HEADS, ids=HEAD_IDS)
families = pytest.mark.parametrize("model_type", list_families())


def tiny_config(model_type: str, **overrides):
    return FAMILIES[model_type].config_class()(**(TINY | overrides))


def build(model_type: str, auto_name: str, seed: int = 0, **overrides):
    torch.manual_seed(seed)
    return FAMILIES[model_type].auto_classes()[auto_name](tiny_config(model_type, **overrides)).eval()


def family_base(family):
    """The family's `<Family>PreTrainedModel`: the one base that all of its heads share."""
    bases = [set(cls.__mro__) for cls in family.auto_classes().values()]
    shared = set.intersection(*bases) - {transformers.PreTrainedModel}
    return next(
        cls
        for cls in family.auto_classes()["AutoModel"].__mro__
        if cls in shared and cls.__module__ == family.modeling_module
    )


def head_inputs(auto_name: str, batch) -> dict[str, torch.Tensor]:
    if auto_name == "AutoModelForMultipleChoice":  # (batch, choices, seq)
        return {k: v.unsqueeze(1).repeat(1, NUM_CHOICES, 1) for k, v in batch.items()}
    return dict(batch)


def head_labels(model, auto_name: str, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Labels that make the head compute its loss from every part of it."""
    ids, mask = inputs["input_ids"], inputs["attention_mask"]
    rows = torch.arange(ids.shape[0])
    if auto_name == "AutoModel":
        return {}
    if auto_name in ("AutoModelForMaskedLM", "AutoModelForPreTraining"):
        labels = {"labels": ids.masked_fill(mask == 0, -100)}
        sentence = [name for name in SENTENCE_LABELS if name in inspect.signature(model.forward).parameters]
        return labels | ({sentence[0]: rows % 2} if auto_name == "AutoModelForPreTraining" else {})
    if auto_name == "AutoModelForTokenClassification":
        return {"labels": (ids % model.config.num_labels).masked_fill(mask == 0, -100)}
    if auto_name == "AutoModelForQuestionAnswering":
        return {"start_positions": torch.ones_like(rows), "end_positions": mask.sum(-1) - 2}
    if auto_name == "AutoModelForMultipleChoice":
        return {"labels": rows % NUM_CHOICES}
    if auto_name == "AutoModelForSequenceClassification":
        return {"labels": rows % model.config.num_labels}
    raise AssertionError(f"the contract test has no labels for {auto_name}: add them to head_labels")


def leaves(outputs) -> list[torch.Tensor]:
    return [t for t in pytree.tree_leaves(outputs) if isinstance(t, torch.Tensor)]


def assert_same_outputs(got, expected, atol: float = 0.0) -> None:
    got, expected = leaves(got), leaves(expected)
    assert len(got) == len(expected) > 0
    for a, b in zip(got, expected, strict=True):
        assert a.shape == b.shape
        assert torch.allclose(a, b, atol=atol, rtol=0), (a - b).abs().max()


# ---------------------------------------------------------------- registration


@heads
def test_head_is_registered_with_its_auto_class(model_type, auto_name):
    family = FAMILIES[model_type]
    config_class, auto_classes = family.config_class(), family.auto_classes()
    model = getattr(transformers, auto_name).from_config(tiny_config(model_type))
    assert type(model) is auto_classes[auto_name]
    base = auto_classes["AutoModel"]  # the family's encoder, or the transformers one it subclasses (ShrunkBert)
    assert type(model.base_model) in (base, *[b for b in base.__bases__ if not issubclass(b, family_base(family))])
    assert isinstance(model, family_base(family))
    assert model.config_class is config_class and type(model.config) is config_class
    assert type(AutoConfig.for_model(model_type)) is config_class
    # the Trainer keeps only the dataset columns forward() names: they must be named, not hidden in **kwargs
    assert {"input_ids", "attention_mask"} <= set(inspect.signature(model.forward).parameters)


@families
def test_family_names_are_exported_where_the_records_say(model_type):
    family = FAMILIES[model_type]
    package = __import__(family.package, fromlist=["_"])
    for name, module in family.exports().items():
        value = getattr(package, name)
        assert getattr(value, "__module__", module) == module, name  # classes and functions: defined there
    for name in family.public_names():
        assert getattr(compactbert, name) is getattr(package, name) and name in compactbert.__all__
    assert set(family.auto_classes().values()) <= {getattr(package, n) for n in family.public_names()}


# (config.json field -> a value the family's config refuses, the error) per family; a new family adds its own
TAMPERED = {
    "shrunk_bert": ({"num_hidden_layers": 1}, "kept_layers has 2 entries but num_hidden_layers is 1"),
    "tiny_bert": ({"num_attention_heads": 5}, r"hidden_size \(32\) must be divisible by num_attention_heads \(5\)"),
    "albert_sop": ({"sharing": "layers"}, "unknown sharing 'layers'"),
}


@families
def test_tampered_config_is_refused_on_load(model_type, tmp_path):
    assert model_type in TAMPERED, f"give TAMPERED a config.json field that family {model_type} must refuse on load"
    fields, message = TAMPERED[model_type]
    tiny_config(model_type).save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps(saved | fields))
    with pytest.raises(ValueError, match=message):
        AutoConfig.from_pretrained(tmp_path)


@families
def test_a_config_override_at_load_is_refused_like_a_tampered_file(model_type, tmp_path):
    # `from_pretrained(folder, num_hidden_layers=1)` sets the field after the config checked itself: the model must
    # refuse it before loading weights (a ShrunkBert would hold its first layer while its record names others)
    fields, message = TAMPERED[model_type]
    build(model_type, "AutoModel").save_pretrained(tmp_path)
    with pytest.raises(ValueError, match=message):
        transformers.AutoModel.from_pretrained(tmp_path, **fields)


# ---------------------------------------------------------------- outputs


@heads
def test_return_dict_false_gives_the_output_tuple(model_type, auto_name, batch):
    model = build(model_type, auto_name)
    inputs = head_inputs(auto_name, batch)
    inputs |= head_labels(model, auto_name, inputs)
    with torch.inference_mode():
        expected = model(**inputs)
        got = model(**inputs, return_dict=False)
    assert isinstance(got, tuple) and not isinstance(got, transformers.utils.ModelOutput)
    assert_same_outputs(got, expected.to_tuple())
    if auto_name != "AutoModel":
        assert torch.equal(got[0], expected.loss)  # the loss comes first


@heads
def test_attentions_and_hidden_states_of_every_layer(model_type, auto_name, batch):
    model = build(model_type, auto_name, attn_implementation="eager")
    inputs = head_inputs(auto_name, batch)
    with torch.inference_mode():
        out = model(**inputs, output_attentions=True, output_hidden_states=True)
        plain = model(**inputs)
    ids = inputs["input_ids"].flatten(0, -2)  # (batch [* choices], seq)
    assert len(out.hidden_states) == TINY["num_hidden_layers"] + 1
    assert all(h.shape == (*ids.shape, TINY["hidden_size"]) for h in out.hidden_states)
    assert len(out.attentions) == TINY["num_hidden_layers"]
    mask = inputs["attention_mask"].flatten(0, -2)
    for attention in out.attentions:  # (batch, heads, seq, seq): a distribution over the real tokens
        assert attention.shape == (ids.shape[0], TINY["num_attention_heads"], ids.shape[1], ids.shape[1])
        assert torch.allclose(attention.sum(-1), torch.ones(()), atol=1e-5)
        assert attention.masked_select(mask[:, None, None, :] == 0).abs().max() < 1e-6
    if auto_name == "AutoModel":
        assert torch.equal(out.hidden_states[-1], out.last_hidden_state)
    assert_same_outputs([v for k, v in out.items() if k not in ("attentions", "hidden_states")], plain.to_tuple())


@heads
def test_sdpa_equals_eager(model_type, auto_name, batch):
    eager = build(model_type, auto_name, attn_implementation="eager")
    sdpa = build(model_type, auto_name, attn_implementation="sdpa")
    assert sdpa.config._attn_implementation == "sdpa" and eager.config._attn_implementation == "eager"
    sdpa.load_state_dict(eager.state_dict())
    inputs = head_inputs(auto_name, batch)
    with torch.inference_mode():
        assert_same_outputs(sdpa(**inputs), eager(**inputs), atol=1e-5)


@heads
def test_a_padded_batch_gives_each_rows_single_outputs(model_type, auto_name, batch, tokenizer):
    model = build(model_type, auto_name)
    inputs = head_inputs(auto_name, batch)
    seq = inputs["input_ids"].shape[-1]
    assert (batch["attention_mask"] == 0).any()  # some rows are padded
    assert seq not in (TINY["hidden_size"], model.config.num_labels, NUM_CHOICES)  # token outputs tell themselves
    with torch.inference_mode():
        batched = leaves(model(**inputs))
        for i, text in enumerate(TEXTS):
            single = head_inputs(auto_name, tokenizer([text], return_tensors="pt"))
            length = single["input_ids"].shape[-1]
            for b, s in zip(batched, leaves(model(**single)), strict=True):
                row = b[i : i + 1]
                if row.dim() >= 2 and row.shape[1] == seq:  # one output per token: the real tokens only
                    row = row[:, :length]
                assert row.shape == s.shape
                assert torch.allclose(row, s, atol=1e-5), (row - s).abs().max()


# ---------------------------------------------------------------- saving and exporting


@heads
def test_save_load_round_trip(model_type, auto_name, batch, tmp_path):
    model = build(model_type, auto_name)
    model.save_pretrained(tmp_path)
    loaded = getattr(transformers, auto_name).from_pretrained(tmp_path)
    assert type(loaded) is type(model) and loaded.config.to_diff_dict() == model.config.to_diff_dict()
    assert loaded.state_dict().keys() == model.state_dict().keys()
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    assert [n for n, p in loaded.named_parameters() if not p.requires_grad] == [
        n for n, p in model.named_parameters() if not p.requires_grad
    ]  # what a new model leaves frozen, a loaded one does too
    inputs = head_inputs(auto_name, batch)
    with torch.inference_mode():
        assert_same_outputs(loaded(**inputs), model(**inputs))


# a head whose forward is transformers' own is exported by transformers' tests; ours: the encoders, our forwards
EXPORTED = [(m, a) for m, a in HEADS if a == "AutoModel" or "forward" in vars(FAMILIES[m].auto_classes()[a])]


@pytest.mark.parametrize(("model_type", "auto_name"), EXPORTED, ids=[f"{m}-{a}" for m, a in EXPORTED])
def test_torch_export(model_type, auto_name, batch):
    model = build(model_type, auto_name)
    inputs = head_inputs(auto_name, batch)
    exported = torch.export.export(model, args=(), kwargs=inputs)
    with torch.inference_mode():
        assert_same_outputs(exported.module()(**inputs), model(**inputs), atol=1e-6)


# ---------------------------------------------------------------- training


def training_loss(model, auto_name: str, batch) -> torch.Tensor:
    inputs = head_inputs(auto_name, batch)
    out = model(**inputs, **head_labels(model, auto_name, inputs))
    if auto_name == "AutoModel":
        return sum(t.sum() for t in out.to_tuple())
    return out.loss


@heads
def test_every_trainable_parameter_gets_a_gradient(model_type, auto_name, batch):
    model = build(model_type, auto_name).train()
    training_loss(model, auto_name, batch).backward()
    unused = [n for n, p in model.named_parameters() if p.requires_grad and (p.grad is None or not p.grad.any())]
    assert unused == []  # else DDP needs find_unused_parameters=True


LOSS_HEADS = [(m, a) for m, a in HEADS if a != "AutoModel"]


@pytest.mark.parametrize(("model_type", "auto_name"), LOSS_HEADS, ids=[f"{m}-{a}" for m, a in LOSS_HEADS])
def test_a_trainer_reports_the_eval_loss_given_the_labels_the_batches_carry(model_type, auto_name, batch, tmp_path):
    """As docs/albert-sop.md and docs/tinybert.md say: a pretraining head takes more label names than a batch carries
    (both names of Albert-SOP's sentence label; masked LM alone), and `label_names` tells the Trainer which it gets."""
    model = build(model_type, auto_name)
    inputs = head_inputs(auto_name, batch)
    labels = head_labels(model, auto_name, inputs)
    cases = [labels]  # and masked LM alone, where the head computes a loss from it:
    if "labels" in labels and len(labels) > 1 and model(**inputs, labels=labels["labels"]).loss is not None:
        cases.append({"labels": labels["labels"]})
    for case in cases:
        rows = [{k: v[i] for k, v in (inputs | case).items()} for i in range(len(inputs["input_ids"]))]
        args = transformers.TrainingArguments(
            str(tmp_path), label_names=list(case), per_device_eval_batch_size=8, report_to="none", use_cpu=True
        )
        metrics = transformers.Trainer(model=model, args=args, eval_dataset=rows).evaluate()
        assert torch.isfinite(torch.tensor(metrics["eval_loss"])), (list(case), metrics)
        # without them the Trainer waits for every label the signature names, as the docs say
        args = transformers.TrainingArguments(
            str(tmp_path), per_device_eval_batch_size=8, report_to="none", use_cpu=True
        )
        metrics = transformers.Trainer(model=model, args=args, eval_dataset=rows).evaluate()
        assert ("eval_loss" in metrics) == (set(find_labels(type(model))) <= set(case)), (list(case), metrics)


GC_HEADS = [(m, a) for m, a in HEADS if FAMILIES[m].auto_classes()[a].supports_gradient_checkpointing]


@pytest.mark.parametrize(("model_type", "auto_name"), GC_HEADS, ids=[f"{m}-{a}" for m, a in GC_HEADS])
def test_gradient_checkpointing_is_turned_on_from_the_config(model_type, auto_name, batch):
    no_dropout = dict(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    plain = build(model_type, auto_name, **no_dropout).train()
    checkpointed = build(model_type, auto_name, gradient_checkpointing=True, **no_dropout).train()
    assert checkpointed.is_activation_checkpointing and not plain.is_activation_checkpointing
    layers = [
        m for m in checkpointed.modules() if isinstance(m, GradientCheckpointingLayer) and m.gradient_checkpointing
    ]
    assert len(layers) == TINY["num_hidden_layers"]
    calls = []  # a block inside the checkpointed layer: it runs again in the backward pass (its activations were
    next(layers[0].children()).register_forward_hook(lambda *_: calls.append(1))  # not kept)
    for model in (plain, checkpointed):
        training_loss(model, auto_name, batch).backward()
    assert len(calls) == 2
    for (name, a), b in zip(plain.named_parameters(), checkpointed.parameters(), strict=True):
        assert (a.grad is None) == (b.grad is None), name
        if a.grad is not None:
            assert torch.allclose(a.grad, b.grad, atol=1e-6), name


# ---------------------------------------------------------------- remote code


REMOTE_BODY = """
import transformers
from transformers import AutoTokenizer

result = {}
for folder, auto_names in zip(args[0::2], args[1::2]):
    batch = AutoTokenizer.from_pretrained(folder)(["the movie was very good", "a boring film"], padding=True,
                                                  return_tensors="pt")
    got = {}
    for auto_name in auto_names.split(","):
        model = getattr(transformers, auto_name).from_pretrained(
            folder, trust_remote_code=True, ignore_mismatched_sizes=True  # a head other than the one saved
        )
        got[auto_name] = (type(model).__name__, type(model).__module__)
    classifier = transformers.AutoModelForSequenceClassification.from_pretrained(folder, trust_remote_code=True)
    base = transformers.AutoModel.from_pretrained(folder, trust_remote_code=True)
    with torch.inference_mode():
        got["logits"] = classifier(**batch).logits
        got["hidden"] = base(**batch).last_hidden_state
    got["config"] = classifier.config.to_diff_dict()
    got["base_weights"] = base.state_dict()
    result[folder] = got
"""


@pytest.fixture(scope="module")
def remote_loads(tmp_path_factory):
    """Each family's classifier saved, then every head of it loaded in one process that cannot import compactbert."""
    root = tmp_path_factory.mktemp("remote")
    saved, args = {}, []
    for model_type in list_families():
        model = build(model_type, "AutoModelForSequenceClassification")
        folder = compactbert.save_model(model, root / model_type, tokenizer=make_tokenizer())
        saved[model_type] = (model, folder)
        args += [str(folder), ",".join(FAMILIES[model_type].auto_classes())]
    return saved, run_without_compactbert(REMOTE_BODY, root, *args, env={"HF_HUB_OFFLINE": "1"})


@families
def test_remote_code_loads_every_head_without_compactbert(model_type, remote_loads, tokenizer):
    saved, results = remote_loads
    model, folder = saved[model_type]
    family = FAMILIES[model_type]
    files = {f.name for f in folder.iterdir()}
    assert {f"configuration_{model_type}.py", f"modeling_{model_type}.py", "model.safetensors"} <= files
    assert not [name for name in files if name.endswith((".bin", ".pt", ".pth"))]  # no pickles
    auto_map = json.loads((folder / "config.json").read_text())["auto_map"]
    assert auto_map == {"AutoConfig": f"configuration_{model_type}.{family.config_class().__name__}"} | {
        auto_name: f"modeling_{model_type}.{cls.__name__}" for auto_name, cls in family.auto_classes().items()
    }  # every head, whichever was saved
    got = results[str(folder)]
    for auto_name, cls in family.auto_classes().items():
        name, module = got[auto_name]
        assert name == cls.__name__ and module.startswith("transformers_modules")  # the copied code
    volatile = {"_name_or_path", "transformers_version", "auto_map", "architectures"}
    expected = {k: v for k, v in model.config.to_diff_dict().items() if k not in volatile}
    assert {k: v for k, v in got["config"].items() if k not in volatile} == expected  # the provenance too
    base_weights = model.base_model.state_dict()
    assert got["base_weights"].keys() == base_weights.keys()
    assert all(torch.equal(got["base_weights"][k], v) for k, v in base_weights.items())
    batch = tokenizer(["the movie was very good", "a boring film"], padding=True, return_tensors="pt")
    with torch.inference_mode():
        assert torch.equal(got["logits"], model(**batch).logits)
        assert torch.equal(got["hidden"], model.base_model(**batch).last_hidden_state)
