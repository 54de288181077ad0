"""Pairs and masks drawn afresh each epoch (seeded by the epoch), and pretraining continued from an Albert-SOP folder
(e.g. one converted from a trained BERT)."""

import json
from collections import defaultdict

import pytest
import torch
from transformers import AutoModelForPreTraining, AutoTokenizer, BertModel

import compactbert
from compactbert.pretraining import (
    EpochPairs,
    MaskingCollator,
    build_pairs,
    epoch_seed,
    parse_pretrain_recipe,
    pretrain,
    read_documents,
    split_documents,
)
from compactbert.pretraining.pretrain import token_log_prior

from support.helpers import make_bert, make_tokenizer

DOCUMENTS = [
    "the movie was very good\n\nthe actor is funny\n\na great story with music",
    "the team win the game\n\nit was not boring\n\nthe sport news is good",
    "a bad film with a bad plot\n\nthis is not great\n\nthe story was awful",
    "the news of the game\n\nthe team lose\n\nit is boring and not funny",
]
TINY_MODEL = {
    "embedding_size": 16,
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 37,
    "max_position_embeddings": 64,
}


def examples(pairs) -> list[tuple]:
    return sorted((tuple(pairs[i]["input_ids"]), pairs[i]["sentence_label"]) for i in range(len(pairs)))


# ---------------------------------------------------------------- the pieces


def test_each_epoch_draws_its_own_pairs_and_the_first_is_the_pairs_drawn_once():
    documents, tokenizer = DOCUMENTS * 4, make_tokenizer()
    pairs = EpochPairs(documents, tokenizer, "sop", seed=3, max_length=12)
    first = examples(pairs)
    assert first == examples(
        build_pairs(documents, tokenizer, "sop", max_length=12, seed=3).remove_columns("document")
    )
    pairs.set_epoch(1)
    second = examples(pairs)
    expected = build_pairs(documents, tokenizer, "sop", max_length=12, seed=epoch_seed(3, 1))
    assert second == examples(expected.remove_columns("document")) and len(pairs) == len(first) == 32
    assert second != first  # other pairs swapped, other trims
    pairs.set_epoch(0)
    assert examples(pairs) == first  # the same epoch, the same pairs


def test_each_epoch_restarts_the_masks_at_its_own_seed():
    tokenizer = make_tokenizer()
    batch = [
        dict(p) for p in build_pairs(DOCUMENTS, tokenizer, "sop", max_length=24, seed=0).remove_columns("document")
    ]
    collator = MaskingCollator(tokenizer, seed=5)
    epoch_0 = collator(batch)["labels"]
    collator(batch)  # the generator moves on within an epoch
    collator.set_epoch(1)
    epoch_1 = collator(batch)["labels"]
    collator.set_epoch(0)
    assert torch.equal(collator(batch)["labels"], epoch_0) and not torch.equal(epoch_1, epoch_0)
    collator.set_epoch(1)
    assert torch.equal(collator(batch)["labels"], epoch_1)


# ---------------------------------------------------------------- in a pretraining run


@pytest.fixture
def recipe(tmp_path):
    make_tokenizer().save_pretrained(tmp_path / "tok")
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n===\n".join(DOCUMENTS * 5))
    fields = TINY_MODEL | {
        "tokenizer": str(tmp_path / "tok"),
        "corpus": str(corpus),
        "max_length": 12,
        "eval_documents": 0.2,
        "output_dir": str(tmp_path / "run"),
        "num_train_epochs": 2,
        "per_device_train_batch_size": 8,
        "save_strategy": "no",
        "report_to": "none",
        "disable_tqdm": True,
        "bf16_auto": False,
    }
    path = tmp_path / "recipe.yaml"
    path.write_text(json.dumps(fields))
    return path, tmp_path


def examples_per_epoch(monkeypatch, run) -> list[list[tuple]]:
    """The examples the training collator got in each epoch of `run()` (4 batches of 8 per epoch here)."""
    seen = defaultdict(list)
    call = MaskingCollator.__call__

    def recording(self, batch):
        seen[id(self)].append([(tuple(ex["input_ids"]), ex["sentence_label"]) for ex in batch])
        return call(self, batch)

    monkeypatch.setattr(MaskingCollator, "__call__", recording)
    run()
    training = next(iter(seen.values()))  # the trainer's collator is the first one used (held-out scoring follows)
    assert len(training) == 8
    return [sorted(ex for batch in training[:4] for ex in batch), sorted(ex for batch in training[4:] for ex in batch)]


def test_two_epochs_see_different_pairs_each_drawn_by_its_epoch_seed(recipe, monkeypatch):
    path, tmp_path = recipe
    args = parse_pretrain_recipe(path)
    first, second = examples_per_epoch(monkeypatch, lambda: pretrain(*args))
    assert first != second
    seed = args[2].seed
    train_docs, _ = split_documents(read_documents(str(tmp_path / "corpus.txt")), 0.2, seed)
    for epoch, seen in enumerate((first, second)):
        drawn = build_pairs(train_docs, make_tokenizer(), "sop", max_length=12, seed=epoch_seed(seed, epoch))
        assert seen == examples(drawn.remove_columns("document"))


def test_without_redrawing_every_epoch_sees_the_same_pairs(recipe, monkeypatch):
    path, _ = recipe
    args = parse_pretrain_recipe(path, {"redraw_pairs_each_epoch": False, "overwrite": True})
    first, second = examples_per_epoch(monkeypatch, lambda: pretrain(*args))
    assert first == second


def test_persistent_workers_cannot_see_the_redrawn_pairs(recipe):
    path, _ = recipe
    args = parse_pretrain_recipe(path, {"dataloader_num_workers": 1, "dataloader_persistent_workers": True})
    with pytest.raises(ValueError, match="set dataloader_persistent_workers: false or redraw_pairs_each_epoch: false"):
        pretrain(*args)


# ---------------------------------------------------------------- continuing from an Albert-SOP folder


def test_pretraining_continues_from_a_converted_bert(recipe):
    path, tmp_path = recipe
    source = make_bert(BertModel, num_layers=2)
    converted = compactbert.albert_from_bert(source, embedding_size=8, sharing="ffn", init="last")
    compactbert.save_model(converted, tmp_path / "albert", tokenizer=make_tokenizer())
    overrides = {"model": str(tmp_path / "albert"), "tokenizer": None, "sentence_objective": "nsp", "max_steps": 1}
    metrics = pretrain(*parse_pretrain_recipe(path, overrides))
    assert metrics["train"]["global_step"] == 1
    final = tmp_path / "run" / "model"
    model = AutoModelForPreTraining.from_pretrained(final)
    config = model.config
    assert (config.embedding_size, config.sharing, config.shared_init, config.sentence_objective) == (
        8,
        "ffn",
        "last",
        "nsp",
    )
    assert config.hidden_size == 32 and config.source_model == converted.config.source_model
    # one step at the default learning rate from the converted weights, not from random init
    start, trained = converted.state_dict(), model.albert.state_dict()
    assert start.keys() == trained.keys()
    for key, value in start.items():
        assert (trained[key] - value).abs().max() < 1e-3, key
    assert AutoTokenizer.from_pretrained(final).get_vocab() == make_tokenizer().get_vocab()


def test_pretraining_continues_from_a_distilled_classifier(recipe):
    """A converted student distilled on a 5-class task: its encoder carries over, its classifier does not, and the
    sentence head stays binary (it took the classifier's 5 outputs, and every batch failed, before)."""
    path, tmp_path = recipe
    converted = compactbert.albert_from_bert(make_bert(BertModel, num_layers=2), embedding_size=8, sharing="all")
    classifier = compactbert.AlbertSopForSequenceClassification(
        converted.config.__class__(**converted.config.to_dict() | {"num_labels": 5})
    )
    classifier.albert.load_state_dict(converted.state_dict())
    compactbert.save_model(classifier, tmp_path / "student", tokenizer=make_tokenizer())
    overrides = {"model": str(tmp_path / "student"), "tokenizer": None, "max_steps": 1}
    assert pretrain(*parse_pretrain_recipe(path, overrides))["train"]["global_step"] == 1
    model = AutoModelForPreTraining.from_pretrained(tmp_path / "run" / "model")
    assert model.config.num_labels == 2 and model.sop_classifier.classifier.out_features == 2
    with pytest.raises(
        ValueError, match=r"the sentence head \(SOP or NSP\) is binary, but the config has num_labels=5"
    ):
        compactbert.AlbertSopForPreTraining.from_pretrained(tmp_path / "student")


def test_pretraining_refuses_a_model_that_is_not_an_albert_sop(recipe):
    path, tmp_path = recipe
    make_bert(BertModel, num_layers=2).save_pretrained(tmp_path / "bert")
    with pytest.raises(ValueError, match=r"is a 'bert' model; .* convert a BERT first with `compactbert albert"):
        pretrain(*parse_pretrain_recipe(path, {"model": str(tmp_path / "bert")}))


def test_mlm_bias_prior_starts_a_fresh_head_at_the_token_log_prior_and_keeps_a_trained_one(recipe):
    path, tmp_path = recipe
    tokenizer = make_tokenizer()
    documents = ["the movie was good", "the movie"]
    prior = token_log_prior(documents, tokenizer, len(tokenizer))
    counts = {"the": 3, "movie": 3, "was": 2, "good": 2}  # add-one: every token at least 1
    total = len(tokenizer) + 6
    for token, count in counts.items():
        assert prior[tokenizer.convert_tokens_to_ids(token)].exp() == pytest.approx(count / total)
    assert prior.exp().sum() == pytest.approx(1.0)

    converted = compactbert.albert_from_bert(make_bert(BertModel, num_layers=2), embedding_size=8, sharing="all")
    compactbert.save_model(converted, tmp_path / "albert", tokenizer=tokenizer)
    # a learning rate so small that the saved bias is the one the run started from
    overrides = {"tokenizer": None, "max_steps": 1, "learning_rate": 1e-9, "mlm_bias_prior": True}
    metrics = pretrain(*parse_pretrain_recipe(path, overrides | {"model": str(tmp_path / "albert")}))
    train_docs, _ = split_documents(read_documents(str(tmp_path / "corpus.txt")), 0.2, metrics["seed"])
    started = AutoModelForPreTraining.from_pretrained(tmp_path / "run" / "model").predictions.bias
    assert torch.allclose(started, token_log_prior(train_docs, tokenizer, len(tokenizer)), atol=1e-5)
    assert "mlm_bias_prior" not in AutoModelForPreTraining.from_pretrained(tmp_path / "run" / "model").config.to_dict()
    # a folder with a trained MLM head (that run's model, its bias marked) keeps its bias
    trained = AutoModelForPreTraining.from_pretrained(tmp_path / "run" / "model")
    with torch.no_grad():
        trained.predictions.bias.add_(1.0)
    compactbert.save_model(trained, tmp_path / "trained", tokenizer=tokenizer)
    with pytest.warns(UserWarning, match=r"already has a trained masked-LM head; its output bias is kept"):
        pretrain(*parse_pretrain_recipe(path, overrides | {"model": str(tmp_path / "trained"), "overwrite": True}))
    kept = AutoModelForPreTraining.from_pretrained(tmp_path / "run" / "model").predictions.bias
    assert torch.allclose(kept, trained.predictions.bias, atol=1e-5)
