"""DistillationTrainer on tiny random BERTs: teacher 4 layers x 48 wide, student 2 layers x 32 wide."""

import copy
import itertools
import random
import warnings

import pytest
import torch
from datasets import Dataset
from safetensors import safe_open
from transformers import (
    BertForSequenceClassification,
    DataCollatorWithPadding,
    DistilBertConfig,
    DistilBertForSequenceClassification,
    TrainingArguments,
)

from compactbert.distillation import (
    DistillationTrainer,
    DistillationTrainingArguments,
    attention_score_mse,
    capture_attention_scores,
    hidden_mse,
    init_student,
    strip_projection,
    student_layers,
)

from support.helpers import VOCAB, WORDS, make_bert, make_tokenizer
from support.trainers import RecordingMixin

NO_DROPOUT = {"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}


def make_teacher(**overrides):
    return make_bert(BertForSequenceClassification, num_layers=4, hidden_size=48, intermediate_size=64, **overrides)


def make_student(seed=1, **overrides):
    return make_bert(BertForSequenceClassification, num_layers=2, seed=seed, **overrides)


@pytest.fixture(scope="module")
def dataset():
    tokenizer, rng = make_tokenizer(), random.Random(0)
    texts = [" ".join(rng.sample(WORDS, rng.randint(3, 9))) for _ in range(48)]
    pairs = [" ".join(rng.sample(WORDS, 2)) for _ in texts]
    data = Dataset.from_dict({"text": texts, "pair": pairs, "label": [int("good" in t) for t in texts]})
    return data.map(lambda b: tokenizer(b["text"], b["pair"]), batched=True, remove_columns=["text", "pair"])


def arguments(tmp_path, name="run", **overrides):
    fields = dict(
        output_dir=str(tmp_path / name),
        stage="all",
        alpha_label=0.5,
        alpha_cos=1.0,
        max_steps=4,
        per_device_train_batch_size=8,
        learning_rate=1e-3,
        logging_steps=1,
        report_to="none",
        save_strategy="no",
        use_cpu=True,
        disable_tqdm=True,
        seed=0,
    )
    return DistillationTrainingArguments(**(fields | overrides))


class RecordingTrainer(RecordingMixin, DistillationTrainer):
    """Keeps what `compute_loss` hands to the logging mixin (`support.trainers.RecordingMixin`)."""


def trainer(student, teacher, args, dataset, cls=DistillationTrainer, **kwargs):
    tokenizer = make_tokenizer()
    return cls(
        model=student,
        args=args,
        teacher=teacher,
        train_dataset=dataset,
        data_collator=DataCollatorWithPadding(tokenizer),
        processing_class=tokenizer,
        **kwargs,
    )


def weights(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_teacher_frozen_components_logged_and_checkpoints_hold_only_the_student(tmp_path, dataset):
    teacher, student = make_teacher(), make_student()
    before, student_before = weights(teacher), weights(student)
    args = arguments(tmp_path, save_strategy="steps", save_steps=2)
    t = trainer(student, teacher, args, dataset)
    t.train()
    assert not teacher.training and not any(p.requires_grad for p in teacher.parameters())
    assert all(torch.equal(before[k], v) for k, v in teacher.state_dict().items())
    assert any(not torch.equal(student_before[k], v) for k, v in student.state_dict().items())
    logs = [entry for entry in t.state.log_history if "loss" in entry]
    assert len(logs) == 4
    for entry in logs:
        components = {k.removeprefix("loss_"): v for k, v in entry.items() if k.startswith("loss_")}
        assert set(components) == {"ce", "label", "cos", "embed", "hidden", "attn"}
        weighted = sum(getattr(args, f"alpha_{c}") * v for c, v in components.items())
        assert entry["loss"] == pytest.approx(weighted, rel=1e-3)
    with safe_open(tmp_path / "run" / "checkpoint-2" / "model.safetensors", "pt") as f:
        keys = set(f.keys())
        assert f.get_tensor("bert.embeddings.word_embeddings.weight").shape == (len(VOCAB), 32)  # the student's
    assert not [k for k in keys if "encoder.layer.2" in k or "encoder.layer.3" in k]  # teacher depth absent
    # student keys plus the trainer's width projection (32 -> 48), nothing else
    assert keys == set(student.state_dict()) and any(k.startswith("bert.distillation_projection") for k in keys)
    assert strip_projection(student) is not None
    assert not [k for k in student.state_dict() if "projection" in k]


def test_components_logged_in_training_and_evaluation_are_the_means_of_what_compute_loss_gave(tmp_path, dataset):
    args = arguments(
        tmp_path,
        per_device_train_batch_size=4,
        gradient_accumulation_steps=2,
        logging_steps=2,
        eval_strategy="steps",
        eval_steps=2,
        per_device_eval_batch_size=4,
    )
    t = trainer(
        make_student(), make_teacher(), args, dataset, cls=RecordingTrainer, eval_dataset=dataset.select(range(10))
    )
    assert t.train().metrics["teacher_layers"] == [1, 3]  # 2 of 4 layers, uniform
    returned = t.evaluate(metric_key_prefix="validation")
    components = [f"loss_{c}" for c in args.active_components]

    def weighted(entry, prefix=""):  # the loss as the weighted sum of the logged components
        return sum(getattr(args, f"alpha_{c}") * entry[f"{prefix}loss_{c}"] for c in args.active_components)

    train_calls = [values for training, _, values in t.recorded if training]
    train_logs = [entry for entry in t.state.log_history if "loss" in entry]
    assert len(train_calls) == 4 * 2 and [entry["step"] for entry in train_logs] == [2, 4]
    for entry, window in zip(train_logs, (train_calls[:4], train_calls[4:]), strict=True):  # 2 steps x 2 micro-batches
        for name in components:
            assert entry[name] == pytest.approx(sum(v[name] for v in window) / 4, rel=1e-5)
        assert entry["loss"] == pytest.approx(weighted(entry), rel=1e-4)

    eval_calls = [(size, values) for training, size, values in t.recorded if not training]
    assert [size for size, _ in eval_calls] == [4, 4, 2] * 3  # evaluations at steps 2 and 4, then `validation`
    eval_logs = [(e, "eval_") for e in t.state.log_history if "eval_loss" in e]
    eval_logs += [(e, "validation_") for e in t.state.log_history if "validation_loss" in e]
    assert len(eval_logs) == 3
    for i, (entry, prefix) in enumerate(eval_logs):
        group = eval_calls[3 * i : 3 * i + 3]
        for name in components:  # each batch weighs as many examples as it holds, as in eval_loss
            assert entry[prefix + name] == pytest.approx(sum(n * v[name] for n, v in group) / 10, rel=1e-5)
        assert entry[f"{prefix}loss"] == pytest.approx(weighted(entry, prefix), rel=1e-4)
    assert {k: v for k, v in returned.items() if "loss_" in k} == {
        k: v for k, v in eval_logs[-1][0].items() if "loss_" in k
    }


@pytest.mark.parametrize(("layer_map", "layers"), [("uniform", [1, 3]), ("bottom", [0, 1]), ("0, 2", [0, 2])])
def test_hidden_and_attention_losses_learn_from_the_mapped_teacher_layers(tmp_path, dataset, layer_map, layers):
    teacher, student = make_teacher(), make_student()  # eval mode: no dropout
    args = arguments(tmp_path, stage="intermediate", alpha_cos=0.0, layer_map=layer_map)
    t = trainer(student, teacher, args, dataset, cls=RecordingTrainer)
    assert t.teacher_layers == layers
    batch = t.data_collator([dataset[i] for i in range(8)])
    t.compute_loss(student, batch)
    ((_, _, logged),) = t.recorded
    inputs = {k: batch[k] for k in ("input_ids", "attention_mask", "token_type_ids")}
    mask = batch["attention_mask"]
    with torch.no_grad():
        with capture_attention_scores(student) as s_scores:
            s_states = t.projection(tuple(student(**inputs, output_hidden_states=True).hidden_states))
        with capture_attention_scores(teacher) as t_scores:
            t_states = teacher(**inputs, output_hidden_states=True).hidden_states
    hidden = [[float(hidden_mse(s, t_states[j + 1], mask)) for j in range(4)] for s in s_states[1:]]
    attention = [[float(attention_score_mse(s, t_scores[j], mask)) for j in range(4)] for s in s_scores]
    # of every choice of a teacher layer per student layer, only `layers` gives the losses the trainer computed
    for name, terms in (("loss_hidden", hidden), ("loss_attn", attention)):
        choices = itertools.product(range(4), repeat=2)
        matching = [
            list(c) for c in choices if sum(terms[i][j] for i, j in enumerate(c)) == pytest.approx(logged[name])
        ]
        assert matching == [layers], name


def test_gradient_accumulation_matches_the_full_batch(tmp_path, dataset):
    runs = {}
    for name, batch, accumulation in (("full", 8, 1), ("accumulated", 4, 2)):
        student = make_student(**NO_DROPOUT)
        args = arguments(
            tmp_path,
            name,
            stage="prediction",
            per_device_train_batch_size=batch,
            gradient_accumulation_steps=accumulation,
            max_steps=3,
        )
        trainer(student, make_teacher(**NO_DROPOUT), args, dataset).train()
        runs[name] = weights(student)
    initial = weights(make_student(**NO_DROPOUT))
    for key, value in runs["full"].items():
        torch.testing.assert_close(runs["accumulated"][key], value, rtol=1e-4, atol=1e-5)
    for run in runs.values():  # both trained: every layer and the head moved
        for key in ("bert.encoder.layer.0.attention.self.query.weight", "bert.encoder.layer.1.output.dense.weight"):
            assert (run[key] - initial[key]).abs().max() > 1e-4, key
        assert (run["classifier.weight"] - initial["classifier.weight"]).abs().max() > 1e-4


def test_bf16_autocast_trains(tmp_path, dataset):
    student, teacher = make_student(), make_teacher()
    before = weights(student)
    dtypes = {}  # the teacher runs under the student's autocast, not in fp32

    def record(name):
        def hook(module, inputs, output):
            dtypes.setdefault(name, output.dtype)

        return hook

    for name, model in (("student", student), ("teacher", teacher)):
        model.classifier.register_forward_hook(record(name))
    returned = []  # what the teacher's forward returns: not upcast to fp32 (the cache keeps it as computed)
    teacher.register_forward_hook(lambda module, inputs, output: returned.append(output.logits.dtype))
    t = trainer(student, teacher, arguments(tmp_path, bf16=True, max_steps=2), dataset, eval_dataset=dataset)
    # evaluation before training: the Trainer prepares the student for it (autocast), the teacher comes second
    assert "eval_loss_ce" in t.evaluate()
    assert dtypes == {"student": torch.bfloat16, "teacher": torch.bfloat16}
    assert teacher._is_accelerate_prepared and not teacher.training  # set up by the Trainer's accelerator
    t.train()
    assert set(returned) == {torch.bfloat16}
    logs = [entry for entry in t.state.log_history if "loss" in entry]
    assert all(torch.isfinite(torch.tensor(entry["loss"])) and "loss_attn" in entry for entry in logs)
    assert any(not torch.equal(before[k], v) for k, v in student.state_dict().items())


def test_bf16_general_stage_with_bare_encoders_gets_the_teachers_hidden_states(tmp_path, dataset):
    # TinyBERT's general stage distils a bare encoder (BertModel) into a bare student. Under mixed precision the
    # teacher's accelerate wrapper was unwrapped past transformers' own forward decorators, which is where a bare
    # BertModel collects `hidden_states`: the first step then failed on `None`.
    from transformers import BertModel

    teacher = make_bert(BertModel, num_layers=4, hidden_size=48, intermediate_size=64)
    student = make_bert(BertModel, num_layers=2, seed=1)
    before = weights(student)
    args = arguments(tmp_path, stage="general", alpha_ce=0.0, alpha_cos=0.0, alpha_label=0.0, bf16=True, max_steps=2)
    t = trainer(student, teacher, args, dataset.remove_columns(["label"]))
    t.train()
    assert "forward" not in teacher.__dict__  # the class's own (decorated) forward again
    logs = [entry for entry in t.state.log_history if "loss" in entry]
    assert logs and all(entry["loss_hidden"] > 0 and entry["loss_attn"] > 0 for entry in logs)
    assert any(not torch.equal(before[k], v) for k, v in student.state_dict().items())


def test_resume_ends_where_an_unbroken_run_ends(tmp_path, dataset):
    teacher = make_teacher()
    unbroken = make_student()
    args = arguments(tmp_path, "unbroken", max_steps=6, save_strategy="steps", save_steps=3)
    trainer(unbroken, teacher, args, dataset).train()
    resumed = make_student()  # a fresh process would start from the same initial student
    args = arguments(tmp_path, "resumed", max_steps=6, save_strategy="no")
    t = trainer(resumed, teacher, args, dataset)
    checkpoint = tmp_path / "unbroken" / "checkpoint-3"
    t.train(resume_from_checkpoint=str(checkpoint))
    # it trained steps 4 to 6 only (the teacher ran on 3 batches), from the checkpoint's weights and optimizer state
    assert t.state.global_step == 6 and t.teacher_forwards == 3
    assert [e["step"] for e in t.state.log_history if "loss" in e] == [1, 2, 3, 4, 5, 6]
    final = weights(unbroken)
    for key, value in resumed.state_dict().items():  # includes the trainer's projection, restored from the checkpoint
        torch.testing.assert_close(value, final[key], rtol=1e-5, atol=1e-6)
    with safe_open(checkpoint / "model.safetensors", "pt") as f:
        at_checkpoint = {k: f.get_tensor(k) for k in f.keys()}
    for key in (
        "bert.encoder.layer.1.output.dense.weight",
        "classifier.weight",
        "bert.distillation_projection.maps.0.weight",
    ):
        assert (resumed.state_dict()[key] - at_checkpoint[key]).abs().max() > 1e-4, key  # moved on from step 3


def test_lora_student(tmp_path, dataset):
    from peft import LoraConfig, TaskType, get_peft_model

    teacher = make_teacher()
    base = make_student()
    frozen_before = base.bert.encoder.layer[0].attention.output.dense.weight.detach().clone()
    student = get_peft_model(base, LoraConfig(task_type=TaskType.SEQ_CLS, r=4, target_modules=["query", "value"]))
    lora_before = {k: v.detach().clone() for k, v in student.named_parameters() if "lora_B" in k}
    t = trainer(student, teacher, arguments(tmp_path, max_steps=3), dataset)
    t.train()
    assert any(not torch.equal(v, dict(student.named_parameters())[k]) for k, v in lora_before.items())
    assert torch.equal(base.bert.encoder.layer[0].attention.output.dense.weight, frozen_before)
    assert {k for entry in t.state.log_history for k in entry if k.startswith("loss_")} >= {"loss_attn", "loss_ce"}


def test_gradient_checkpointing_trains_the_hidden_losses_and_refuses_the_attention_scores(tmp_path, dataset):
    """The backward pass recomputes a checkpointed layer without recording its scores: the attention loss failed
    ("a different number of tensors was saved") or, reentrant, trained nothing. The other losses train as without."""
    with pytest.raises(ValueError, match=r"alpha_attn\) cannot train under gradient checkpointing"):
        arguments(tmp_path, gradient_checkpointing=True)
    teacher, checkpointed = make_teacher(), make_student()
    checkpointed.gradient_checkpointing_enable()
    with pytest.raises(ValueError, match="the student has gradient checkpointing enabled, but the attention-score"):
        trainer(checkpointed, teacher, arguments(tmp_path), dataset)
    losses = []
    for checkpointing in (False, True):
        args = arguments(
            tmp_path, str(checkpointing), alpha_attn=0.0, max_steps=2, gradient_checkpointing=checkpointing
        )
        t = trainer(make_student(), teacher, args, dataset)
        t.train()
        losses.append([e[key] for e in t.state.log_history if "loss" in e for key in ("loss", "loss_hidden")])
    assert len(losses[1]) == 4 and losses[1] == pytest.approx(losses[0], rel=1e-4)


def test_teacher_keeps_inputs_the_student_does_not_take(tmp_path, dataset):
    """A DistilBERT student takes no token_type_ids; the BERT teacher still gets them."""
    teacher = make_teacher()
    student = DistilBertForSequenceClassification(
        DistilBertConfig(
            vocab_size=len(VOCAB), dim=32, n_layers=2, n_heads=2, hidden_dim=37, max_position_embeddings=64
        )
    )
    seen = []
    teacher.register_forward_pre_hook(lambda module, args, kwargs: seen.append(set(kwargs)), with_kwargs=True)
    args = arguments(tmp_path, stage="prediction", max_steps=2)
    trainer(student, teacher, args, dataset).train()
    assert seen and all("token_type_ids" in keys and "labels" not in keys for keys in seen)


def test_cached_teacher_outputs_skip_the_teacher_after_the_first_epoch(tmp_path, dataset):
    results = {}
    for cached in (False, True):
        student = make_student(**NO_DROPOUT)
        args = arguments(tmp_path, f"cache-{cached}", num_train_epochs=2, max_steps=-1, cache_teacher_outputs=cached)
        t = trainer(student, make_teacher(**NO_DROPOUT), args, dataset.select(range(24)))
        t.train()
        results[cached] = (t.teacher_forwards, weights(student))
        if cached:
            cached_bytes = t.teacher_cache_bytes
        else:
            assert t.teacher_cache_bytes == 0
    assert results[False][0] == 6 and results[True][0] == 3  # 24 examples / 8 per batch = 3 batches per epoch
    # fp32: per example 2 logits, embeddings + 2 mapped hidden states (48 wide), 2 mapped layers of 2 x n x n scores
    examples = {tuple(ids) for ids in dataset.select(range(24))["input_ids"]}
    assert cached_bytes == sum(4 * (2 + 3 * len(ids) * 48 + 2 * 2 * len(ids) ** 2) for ids in examples)
    for key, value in results[False][1].items():  # same training, up to float noise from different padding
        torch.testing.assert_close(results[True][1][key], value, rtol=1e-3, atol=1e-4)


def test_a_peft_teacher_gets_every_input_its_model_takes(tmp_path, dataset):
    from peft import LoraConfig, get_peft_model

    # PEFT's forward names input_ids and attention_mask, not token_type_ids: the pairs' segments must still reach it
    teacher = get_peft_model(make_teacher(), LoraConfig(task_type="SEQ_CLS", target_modules=["query", "value"]))
    seen = []
    teacher.get_base_model().register_forward_pre_hook(lambda m, a, kw: seen.append(set(kw)), with_kwargs=True)
    trainer(make_student(), teacher, arguments(tmp_path, max_steps=1), dataset).train()
    assert seen and all("token_type_ids" in keys for keys in seen)


def test_vocabulary_mismatch_and_bad_setups_fail_clearly(tmp_path, dataset):
    teacher = make_teacher()
    n = len(VOCAB)
    with pytest.raises(ValueError, match=rf"vocabularies differ: vocab_size {n} \(teacher\) vs {n + 1} \(student\)"):
        trainer(make_student(vocab_size=len(VOCAB) + 1), teacher, arguments(tmp_path), dataset)
    other = make_tokenizer()
    other.add_tokens(["zebra"])
    with pytest.raises(ValueError, match="tokenizers differ"):
        trainer(make_student(), teacher, arguments(tmp_path), dataset, teacher_tokenizer=other)
    with pytest.raises(ValueError, match="student has 4 heads and the teacher 2"):
        trainer(make_student(num_attention_heads=4), teacher, arguments(tmp_path), dataset)
    partitioned = make_teacher()
    next(partitioned.parameters()).ds_id = 0  # what DeepSpeed ZeRO-3's zero.Init sets on the parameters it shards
    with pytest.raises(ValueError, match="partitioned by DeepSpeed ZeRO-3"):
        trainer(make_student(), partitioned, arguments(tmp_path), dataset)
    plain = TrainingArguments(output_dir=str(tmp_path), use_cpu=True, learning_rate=3e-4)
    with pytest.raises(TypeError, match=r"DistillationTrainingArguments\(\*\*args.to_dict\(\), alpha_ce"):
        trainer(make_student(), teacher, plain, dataset)
    converted = DistillationTrainingArguments(**plain.to_dict(), alpha_label=1.0)  # what the message proposes
    assert converted.learning_rate == 3e-4 and converted.alpha_label == 1.0
    # said at construction, not as a shape mismatch or an autograd error at the first step
    with pytest.raises(ValueError, match="the teacher predicts 3 labels and the student 2: alpha_ce matches"):
        trainer(make_student(), make_teacher(num_labels=3), arguments(tmp_path), dataset)
    with pytest.raises(TypeError, match=r"^teacher= takes a loaded model \(e.g. AutoModelFor.*got str"):
        trainer(make_student(), "runs/teacher/model", arguments(tmp_path), dataset)
    student = make_student()
    with pytest.raises(ValueError, match="the teacher is the student itself"):
        trainer(student, student, arguments(tmp_path), dataset)


def test_the_kept_map_of_a_student_shrunk_from_a_shrunk_teacher_names_the_teachers_layers(tmp_path, dataset):
    from compactbert import shrink

    six = make_bert(BertForSequenceClassification, num_layers=6, hidden_size=48, intermediate_size=64)
    teacher = shrink(six, keep=[0, 1, 3, 5])  # a ShrunkBert: 4 layers, source layers [0, 1, 3, 5] of 6
    student = init_student(teacher)  # the teacher's layers 0 and 2, recorded as source layers [0, 3]
    assert student.config.kept_layers == [0, 3]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert trainer(student, teacher, arguments(tmp_path, layer_map="kept"), dataset).teacher_layers == [0, 2]
    with pytest.warns(UserWarning, match=r"cut from teacher layers \[0, 2\], but the default layer_map 'uniform'"):
        assert trainer(student, teacher, arguments(tmp_path), dataset).teacher_layers == [1, 3]


def test_a_student_cut_from_other_layers_than_the_uniform_map_names_is_warned_of(tmp_path, dataset):
    teacher = make_teacher()
    student = init_student(teacher)  # teacher layers [0, 2]; `uniform` maps 2 of 4 layers to [1, 3]
    with pytest.warns(UserWarning, match=r"cut from teacher layers \[0, 2\], but the default layer_map 'uniform' .* "
                      r"\[1, 3\]: layer_map='kept' pairs"):  # fmt: skip
        assert trainer(student, teacher, arguments(tmp_path), dataset).teacher_layers == [1, 3]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        chosen = trainer(student, teacher, arguments(tmp_path, layer_map="uniform"), dataset)  # given: the user's call
        assert chosen.teacher_layers == [1, 3]
        assert trainer(student, teacher, arguments(tmp_path, layer_map="kept"), dataset).teacher_layers == [0, 2]
        trainer(student, teacher, arguments(tmp_path, stage="prediction"), dataset)  # no layer is matched: no word
        other = init_student(teacher)
        other.config.source_num_hidden_layers = 12  # cut from another, deeper model: its layers are not this one's
        trainer(other, teacher, arguments(tmp_path), dataset)


def test_arguments_validate():
    with pytest.raises(ValueError, match="unknown stage 'task'"):
        DistillationTrainingArguments(output_dir="o", stage="task")
    with pytest.raises(ValueError, match="alpha_ce must be >= 0"):
        DistillationTrainingArguments(output_dir="o", alpha_ce=-1)
    with pytest.raises(ValueError, match="temperature must be > 0"):
        DistillationTrainingArguments(output_dir="o", temperature=0)
    with pytest.raises(ValueError, match="nothing to train"):
        DistillationTrainingArguments(output_dir="o", stage="prediction", alpha_ce=0)
    with pytest.raises(ValueError, match="unknown layer_map 'middle'"):
        DistillationTrainingArguments(output_dir="o", layer_map="middle")
    assert DistillationTrainingArguments(output_dir="o", layer_map="1, 3").layer_map == [1, 3]
    assert DistillationTrainingArguments(output_dir="o", stage="all").active_components == (
        "ce",
        "embed",
        "hidden",
        "attn",
    )


def test_student_init_takes_the_chosen_teacher_layers():
    teacher = make_bert(BertForSequenceClassification, num_layers=6)
    student = init_student(teacher)
    assert student.config.kept_layers == [0, 2, 4] and student.config.drop_strategy == "distil-init:every-other"
    t, s = teacher.state_dict(), student.state_dict()
    for source, target in ((0, 0), (2, 1), (4, 2)):
        for name in ("attention.self.query.weight", "output.dense.weight", "output.LayerNorm.bias"):
            assert torch.equal(s[f"bert.encoder.layer.{target}.{name}"], t[f"bert.encoder.layer.{source}.{name}"])
    for name in ("bert.embeddings.word_embeddings.weight", "bert.pooler.dense.weight", "classifier.weight"):
        assert torch.equal(s[name], t[name])
    distil = init_student(make_bert(BertForSequenceClassification, num_layers=12), "distilbert")
    assert distil.config.kept_layers == [0, 2, 4, 7, 9, 11]
    twelve = make_bert(BertForSequenceClassification, num_layers=12).state_dict()
    assert torch.equal(
        distil.state_dict()["bert.encoder.layer.3.output.dense.weight"],
        twelve["bert.encoder.layer.7.output.dense.weight"],
    )
    assert student_layers(7) == [0, 2, 4, 6]
    with pytest.raises(ValueError, match="'distilbert' names DistilBERT's choice for a 12-layer teacher"):
        init_student(teacher, "distilbert")
    with pytest.raises(ValueError, match="unknown student layer choice 'odd'"):
        student_layers(6, "odd")
    copy.deepcopy(student)  # a plain ShrunkBert, nothing tied to the teacher


def test_a_labels_only_stage_never_runs_the_teacher(tmp_path, dataset):
    """A student trained on the task labels alone (e.g. right after pruning) needs nothing from its teacher: the
    teacher's forward would only cost time."""
    student = make_student()
    before = weights(student)
    args = arguments(tmp_path, stage="prediction", alpha_ce=0.0, alpha_label=1.0, alpha_cos=0.0)
    t = trainer(student, make_teacher(), args, dataset)
    t.train()
    assert t.state.global_step == 4 and t.teacher_forwards == 0
    assert any(not torch.equal(before[k], v) for k, v in student.state_dict().items())
    # with soft targets the teacher runs once per step
    t = trainer(make_student(), make_teacher(), arguments(tmp_path, "kd", stage="prediction"), dataset)
    t.train()
    assert t.teacher_forwards == 4
