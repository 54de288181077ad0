"""The zoo: manifest round trip, entries resolved only from the zoo, cache reuse, all-or-nothing builds."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from compactbert.demo import zoo as zoo_module
from compactbert.demo.manifest import MANIFEST, ZooEntry, load_zoo
from compactbert.demo.zoo import (
    BuildProgress,
    BuildSettings,
    default_cache_dir,
    default_zoo_dir,
    ensure_default_zoo,
    example_texts,
)

from support.demo import LABELS, OTHER_ENTRIES, TINY_SCORES
from support.scripts import load_script

CONVERTED_ENTRY = "albert-sop-e128-share-all"  # the default zoo's Albert-SOP: E 128, every layer shared


def test_manifest_round_trips(tiny_zoo_dir):
    zoo = load_zoo(tiny_zoo_dir)
    assert zoo.label_names == LABELS and zoo.contributions == TINY_SCORES
    assert [e.name for e in zoo.entries] == ["shrunk-top-2", "shrunk-bottom-2", *OTHER_ENTRIES]
    assert [(e.family, e.kind, e.kept_layers) for e in zoo.entries[2:]] == [
        (family, kind, None if kind == "converted" else kept) for family, kind, kept, _ in OTHER_ENTRIES.values()
    ]  # a converted Albert-SOP kept no teacher layers: its shared layer started from all of them
    assert zoo.fine_tuned("bottom", 2).kept_layers == [2, 3, 4, 5] and zoo.fine_tuned("top", 3) is None
    assert zoo.resolve(zoo.teacher) == str(tiny_zoo_dir / "teacher")
    assert load_zoo(tiny_zoo_dir / MANIFEST).to_dict() == zoo.to_dict()  # a manifest file works as well as its folder


def test_hub_entries_resolve_to_their_ids(tiny_zoo_dir, tmp_path):
    data = json.loads((tiny_zoo_dir / MANIFEST).read_text())
    data["entries"][0]["source"] = "compactbert/minilm-bbc-news-top2"
    (tmp_path / "hub-zoo.json").write_text(json.dumps(data))
    zoo = load_zoo(tmp_path / "hub-zoo.json")
    assert zoo.resolve(zoo.entries[0]) == "compactbert/minilm-bbc-news-top2"
    with pytest.raises(FileNotFoundError, match="neither a folder of the zoo nor a Hub id"):
        zoo.resolve(ZooEntry(name="x", source="missing-folder", family="bert", kind="teacher"))


def test_bad_manifests_are_refused(tiny_zoo_dir, tmp_path):
    with pytest.raises(FileNotFoundError, match="no zoo at"):
        load_zoo(tmp_path)
    data = json.loads((tiny_zoo_dir / MANIFEST).read_text())
    (tmp_path / "a.json").write_text(json.dumps(data | {"format": 99}))
    with pytest.raises(ValueError, match="zoo format 99 is not supported"):
        load_zoo(tmp_path / "a.json")
    data["entries"][0]["trust_remote_code"] = True
    (tmp_path / "b.json").write_text(json.dumps(data))
    with pytest.raises(ValueError, match=r"unknown fields \['trust_remote_code'\]"):
        load_zoo(tmp_path / "b.json")


def test_a_hand_edited_manifest_is_refused_naming_the_file_and_what_is_wrong(tiny_zoo_dir, tmp_path):
    """The README says to take an entry out of zoo.json to publish the rest: the slips of such an edit are said with
    the file and what is wrong, not as a KeyError or a dataclass's missing argument."""
    text = (tiny_zoo_dir / MANIFEST).read_text()
    data = json.loads(text)
    manifest = tmp_path / "zoo.json"
    cases = [
        ('{"format": 1, "entries": [\n  {"name": "a"},\n]}', r"is not valid JSON: .* line 3, .*left before a closing"),
        (json.dumps([1, 2]), "a zoo manifest is a JSON object"),
        (json.dumps({"format": data["format"]}), "the manifest lacks task, label_names, teacher, entries"),
        (json.dumps(data | {"entries": {"a": 1}}), "entries must be a JSON list"),
        (json.dumps(data | {"entries": [1]}), "a zoo entry must be a JSON object"),
    ]
    entry = {key: value for key, value in data["entries"][0].items() if key != "family"}
    cases.append((json.dumps(data | {"entries": [entry]}), rf"zoo entry '{entry['name']}' lacks family"))
    manifest.write_text('{"format": 1 "task": "x"}')  # a comma missing, not left behind: no such hint
    with pytest.raises(ValueError, match=r"is not valid JSON: Expecting ',' delimiter at line 1, column 14$"):
        load_zoo(tmp_path)
    for written, message in cases:
        manifest.write_text(written)
        with pytest.raises(
            ValueError, match=rf"^{re.escape(str(manifest))}: .*{message}|^{re.escape(str(manifest))} {message}"
        ):
            load_zoo(tmp_path)


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("COMPACTBERT_DEMO_CACHE", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("COMPACTBERT_DEMO_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "compactbert" / "demo"
    assert default_zoo_dir(tmp_path, BuildSettings()) != default_zoo_dir(tmp_path, BuildSettings(num_drop=2))
    assert default_zoo_dir(tmp_path, BuildSettings()) != default_zoo_dir(tmp_path, BuildSettings(families=()))


def test_a_changed_family_recipe_builds_a_new_zoo(monkeypatch, tmp_path):
    """A cached zoo whose Albert-SOP was trained by an older recipe is not reused as if it were the new one; a zoo
    without an Albert-SOP keeps its folder."""
    without = BuildSettings(families=("tiny_bert",))
    before, before_without = default_zoo_dir(tmp_path), default_zoo_dir(tmp_path, without)
    albert = zoo_module.STUDENT_FAMILIES["albert_sop"]
    changed = dataclasses.replace(albert, method=albert.method | {"per_device_train_batch_size": 4})
    monkeypatch.setitem(zoo_module.STUDENT_FAMILIES, "albert_sop", changed)
    assert default_zoo_dir(tmp_path) != before
    assert default_zoo_dir(tmp_path, without) == before_without


@pytest.mark.parametrize(
    "families", [("bert",), ("tiny_bert", "tiny_bert"), ("albert_sop", "distilled", "albert_sop")]
)
def test_unknown_or_repeated_families_are_refused(families):
    with pytest.raises(ValueError, match=r"families must name each of tiny_bert, distilled, albert_sop at most once"):
        BuildSettings(families=families)


def test_a_cached_zoo_is_reused_without_building(monkeypatch, tmp_path, tiny_zoo_dir):
    import shutil

    settings = BuildSettings(strategies=("top",))
    shutil.copytree(tiny_zoo_dir, default_zoo_dir(tmp_path, settings))
    monkeypatch.setattr(zoo_module, "build_default_zoo", lambda *a, **k: pytest.fail("rebuilt a cached zoo"))
    assert ensure_default_zoo(tmp_path, settings) == default_zoo_dir(tmp_path, settings)


def fake_finetune(calls: list, fail_on: int | None = None):
    """Stands in for compactbert.finetune.finetune: saves a tiny random classifier (shrunk as the recipe asks)."""
    from transformers import BertForSequenceClassification

    from compactbert import save_model, shrink

    from support.helpers import make_bert, make_tokenizer

    def finetune(model_args, data_args, training_args):
        calls.append(model_args.shrink_strategy or "teacher")
        if fail_on is not None and len(calls) == fail_on:
            raise KeyboardInterrupt("killed mid-build")
        model = make_bert(BertForSequenceClassification, num_layers=6, num_labels=5, max_position_embeddings=128)
        if model_args.shrink_strategy:
            model = shrink(model, model_args.shrink_strategy, model_args.shrink_drop, tokenizer=make_tokenizer())
        metrics = {
            "test": {"accuracy": 0.5},
            "kept_layers": getattr(model.config, "kept_layers", None),
            "num_parameters": model.num_parameters(),
            "num_hidden_layers": model.config.num_hidden_layers,
        }

        def write_metrics(folder):
            (folder / "metrics.json").write_text(json.dumps(metrics))

        save_model(model, f"{training_args.output_dir}/model", tokenizer=make_tokenizer(), extra=write_metrics)
        return metrics

    return finetune


def fake_distill(calls: list, recipes: list, fail_on: int | None = None):
    """Stands in for compactbert.distillation.recipe.distill: records the recipe and saves a tiny random student of
    the family it asks for (a TinyBert for `pruned`, an all-shared Albert-SOP for `albert`, a ShrunkBert of the
    teacher's layers 0, 2, 4 otherwise)."""
    from transformers import BertForSequenceClassification

    from compactbert import albert_from_bert, save_model, shrink
    from compactbert.models.tiny_bert import TinyBertConfig, TinyBertForSequenceClassification

    from support.helpers import make_bert, make_tokenizer

    def distill(model_args, teacher_args, data_args, training_args):
        calls.append(teacher_args.student_init)
        assert (Path(teacher_args.teacher) / "metrics.json").is_file()  # the zoo's teacher, trained before
        recipes.append((teacher_args, data_args, training_args))
        if fail_on is not None and len(calls) == fail_on:
            raise KeyboardInterrupt("killed mid-build")
        if teacher_args.student_init == "pruned":
            config = TinyBertConfig(vocab_size=64, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                                    intermediate_size=24, num_labels=5, fit_size=32,
                                    pruned_from="teacher", pruning={"kept_layers": [0, 4]})  # fmt: skip
            model = TinyBertForSequenceClassification(config)
            kept = [0, 4]
        elif teacher_args.student_init == "albert":
            model = make_bert(BertForSequenceClassification, num_layers=6, num_labels=5, max_position_embeddings=128)
            model = albert_from_bert(model, embedding_size=8)  # a stand-in: the tiny BERT is 32 wide
            kept = None
        else:
            model = make_bert(BertForSequenceClassification, num_layers=6, num_labels=5, max_position_embeddings=128)
            model, kept = shrink(model, keep=[0, 2, 4]), [0, 2, 4]
        metrics = {
            "test": {"accuracy": 0.25},
            "kept_layers": kept,
            "num_parameters": model.num_parameters(),
            "num_hidden_layers": model.config.num_hidden_layers,
        }

        def write_metrics(folder):
            (folder / "metrics.json").write_text(json.dumps(metrics))

        save_model(model, f"{training_args.output_dir}/model", tokenizer=make_tokenizer(), extra=write_metrics)
        return metrics

    return distill


def test_a_killed_build_leaves_no_zoo_and_the_next_build_resumes(monkeypatch, tmp_path, capsys):
    import compactbert.distillation.recipe
    import compactbert.finetune

    settings = BuildSettings(strategies=("top", "bottom"), num_examples=2)
    assert settings.families == ("tiny_bert", "distilled", "albert_sop")  # on by default
    folder = default_zoo_dir(tmp_path, settings)
    stale = folder.parent / f".{folder.name}.partial-old"  # what a SIGKILLed build leaves behind
    stale.mkdir(parents=True)
    calls: list[str] = []
    recipes: list = []
    monkeypatch.setattr(compactbert.finetune, "finetune", fake_finetune(calls, fail_on=2))
    monkeypatch.setattr(compactbert.distillation.recipe, "distill", fake_distill(calls, recipes))
    progress = BuildProgress()  # what the building app's page and `status` endpoint read
    with pytest.raises(KeyboardInterrupt):
        ensure_default_zoo(tmp_path, settings, log=lambda _: None, progress=progress)
    assert calls == ["teacher", "top"] and not folder.exists() and not stale.exists()
    assert (progress.done, progress.total, progress.current) == (1, 6, "shrunk-top-3")  # killed in the second
    assert not list(folder.parent.glob(f".{folder.name}.partial-*"))

    calls.clear()  # killed again, in the first student made from the teacher
    monkeypatch.setattr(compactbert.finetune, "finetune", fake_finetune(calls))
    monkeypatch.setattr(compactbert.distillation.recipe, "distill", fake_distill(calls, recipes, fail_on=3))
    with pytest.raises(KeyboardInterrupt):
        ensure_default_zoo(tmp_path, settings, log=lambda _: None)
    assert calls == ["top", "bottom", "pruned"] and not folder.exists()

    calls.clear()
    monkeypatch.setattr(compactbert.distillation.recipe, "distill", fake_distill(calls, recipes))
    lines: list[str] = []
    capsys.readouterr()
    assert ensure_default_zoo(tmp_path, settings, log=lines.append, progress=progress) == folder
    assert (progress.done, progress.total) == (6, 6)  # the reused models count as done
    assert calls == ["pruned", "every-other", "albert"]  # the finished models are reused, the students resumed
    assert "  teacher: reused from the interrupted build" in lines and "  shrunk-bottom-3: reused" in " ".join(lines)
    assert "6/6" in capsys.readouterr().err  # the progress bar counts the teacher, 2 shrunk and 3 other students
    zoo = load_zoo(folder)
    assert [e.name for e in zoo.entries] == [
        "shrunk-top-3",
        "shrunk-bottom-3",
        "tinybert-4-pruned",
        "distilled-3",
        CONVERTED_ENTRY,
    ]
    assert zoo.fine_tuned("bottom", 3).kept_layers == [3, 4, 5] and len(zoo.contributions) == 6
    tiny, distilled, albert = zoo.entries[2:]
    assert (tiny.family, tiny.kind, tiny.kept_layers, tiny.num_layers) == ("tiny_bert", "pruned", [0, 4], 2)
    assert (distilled.family, distilled.kind, distilled.kept_layers) == ("shrunk_bert", "distilled", [0, 2, 4])
    assert tiny.strategy is tiny.num_drop is distilled.strategy is distilled.num_drop is None
    assert tiny.metrics == distilled.metrics == {"test_accuracy": 0.25}
    assert "cut out of the fine-tuned teacher (its layers [0, 4])" in tiny.description
    assert (
        "layers [0, 2, 4], distilled from it 1 epoch(s) on the first 1,024 bbc-news training texts"
        in distilled.description
    )
    assert (albert.family, albert.kind, albert.kept_layers, albert.num_layers) == ("albert_sop", "converted", None, 6)
    assert albert.strategy is albert.num_drop is None and albert.metrics == {"test_accuracy": 0.25}
    assert albert.description == (
        "Albert-SOP converted from the fine-tuned teacher: word embeddings factorised to E = 128 by frequency-weighted "
        "SVD, layers sharing `all` (shared weights started as the middle of the teacher's 6 layers), then trained 1 "
        "epoch(s) on the bbc-news labels of the first 1,024 training texts at batch 16"
    )
    assert albert.num_parameters < distilled.num_parameters  # the stand-in: E 8 and one layer of the 6
    assert (folder / "tinybert-4-pruned" / "config.json").is_file() and (folder / "distilled-3").is_dir()
    assert json.loads((folder / CONVERTED_ENTRY / "config.json").read_text())["model_type"] == "albert_sop"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([folder.name, f".{folder.name}.lock"])

    # the three students were made with the zoo's own recipe, from its teacher (the Albert-SOP at batch 16)
    for (teacher_args, data_args, training_args), batch in zip(recipes[-3:], (32, 32, 16), strict=True):
        assert teacher_args.teacher.endswith("/teacher") and data_args.task == "bbc-news"
        assert (data_args.max_length, data_args.split_seed) == (settings.max_length, settings.split_seed)
        assert (training_args.learning_rate, training_args.num_train_epochs) == (3e-4, 1.0)
        assert (training_args.per_device_train_batch_size, training_args.seed) == (batch, 0)
        assert training_args.stage == "prediction" and training_args.stages is None


def test_the_other_families_recipes(tmp_path):
    """What each student of another family is made with: pruned + labels only, every other layer + soft targets,
    converted (E 128, all shared, mean init, frequency-weighted SVD) + labels only."""
    from compactbert.demo.zoo import STUDENT_FAMILIES, _student_recipe
    from compactbert.distillation.recipe import parse_distill_recipe

    settings = BuildSettings(max_train_samples=32, max_eval_samples=8)
    parsed = {
        family: parse_distill_recipe(None, _student_recipe(settings, tmp_path / family, student, tmp_path / "zoo"))
        for family, student in STUDENT_FAMILIES.items()
    }
    _, teacher_args, data_args, training_args = parsed["tiny_bert"]
    assert teacher_args.teacher == str(tmp_path / "zoo" / "teacher") and teacher_args.student_init == "pruned"
    assert (teacher_args.tiny_bert_layers, teacher_args.tiny_bert_hidden_size) == (4, 312)
    assert (teacher_args.tiny_bert_intermediate_size, teacher_args.tiny_bert_heads) == (1200, 12)
    assert teacher_args.prune_layers == "even-alternate" and teacher_args.prune_importance == "activation"
    assert teacher_args.prune_calibration_size == 32  # a quick build calibrates on the texts it trains on
    assert training_args.active_components == ("label",) and data_args.max_train_samples == 32
    _, teacher_args, data_args, training_args = parsed["distilled"]
    assert teacher_args.student_init == "every-other" and teacher_args.teacher == str(tmp_path / "zoo" / "teacher")
    assert training_args.active_components == ("ce", "label") and training_args.temperature == 2.0
    assert (data_args.max_train_samples, data_args.max_eval_samples) == (32, 8)
    _, teacher_args, data_args, training_args = parsed["albert_sop"]
    assert teacher_args.student_init == "albert" and teacher_args.teacher == str(tmp_path / "zoo" / "teacher")
    assert (teacher_args.albert_embedding_size, teacher_args.albert_sharing, teacher_args.albert_init) == (
        128,
        "all",
        "middle",
    )
    assert teacher_args.albert_frequency_weighting  # on the texts it trains on (max_train_samples)
    assert training_args.active_components == ("label",) and training_args.stages is None
    assert (data_args.max_train_samples, training_args.learning_rate, training_args.num_train_epochs) == (32, 3e-4, 1)
    assert STUDENT_FAMILIES["albert_sop"].entry_name(6) == CONVERTED_ENTRY
    # a full build: each student of another family trains on the first 1,024 texts (the first build's budget)
    full = _student_recipe(BuildSettings(), tmp_path / "t", STUDENT_FAMILIES["tiny_bert"], tmp_path / "zoo")
    assert full["prune_calibration_size"] == 512 and full["max_train_samples"] == 1024
    for family, student in STUDENT_FAMILIES.items():
        assert (
            _student_recipe(BuildSettings(), tmp_path / family, student, tmp_path / "zoo")["max_train_samples"] == 1024
        )
    entry = STUDENT_FAMILIES["albert_sop"].entry(
        CONVERTED_ENTRY, BuildSettings(), {"kept_layers": None, "num_hidden_layers": 6, "num_parameters": 1}, 0.9
    )
    assert entry.description.endswith("on the bbc-news labels of the first 1,024 training texts at batch 16")
    recipe = _student_recipe(BuildSettings(), tmp_path / "a", STUDENT_FAMILIES["albert_sop"], tmp_path / "zoo")
    assert recipe["per_device_train_batch_size"] == 16  # twice the zoo's steps (docs/results/demo_albert)


def test_examples_cycle_through_the_labels():
    split = {"text": ["a1. a1 more", "a2", "b1", "c1", "c2"], "label": [0, 0, 1, 2, 2]}
    picked = example_texts(split, ["a", "b", "c"], 4)
    assert [e["label"] for e in picked] == ["a", "b", "c", "a"]
    long = example_texts({"text": ["First sentence here. " * 60], "label": [0]}, ["a"], 1, max_chars=100)[0]["text"]
    assert len(long) <= 100 and long.endswith(".")


def test_an_example_that_nearly_repeats_a_training_text_is_left_out():
    body = "Shares in the carmaker fell by a third in early trading on Monday after it warned on profits."
    split = {"text": [f"Carmaker warns {body}", f"Other news {body}", "A film won three awards at the weekend."]}
    split["label"] = [0, 0, 1]
    picked = example_texts(split, ["business", "film"], 3, trained_on=[f"Profit warning {body}"])
    assert [e["text"][:8] for e in picked] == ["A film w"]  # both business texts repeat the training body
    assert len(example_texts(split, ["business", "film"], 3)) == 3


def test_the_building_page_note_names_the_other_families():
    from compactbert.demo.zoo import build_time_note

    note = build_time_note()
    assert "6 compact students on bbc-news, then a TinyBert-4 pruned from the teacher, then a student" in note
    assert note.count(", then ") == 3 and "then an Albert-SOP converted from the teacher. The first build" in note
    assert f"took {zoo_module.FIRST_BUILD} on an idle 2-core machine" in note  # the record: test below
    without = build_time_note(BuildSettings(families=()))
    assert "TinyBert" not in without and "took 4 min 36 s (without the students of other families)" in without


@pytest.mark.parametrize("args", [["--how", "a build command"], ["--wall-clock", "500"]])
def test_the_build_record_refuses_how_a_build_was_made_without_the_build(args, capsys):
    with pytest.raises(SystemExit):
        load_script("demo_build_time").main(args)  # it would build a zoo of its own and misname it
    assert "--how and --wall-clock describe a build given with --zoo" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        load_script("demo_build_time").main(["--fp32", "--zoo", "built"])  # the zoo is trained already
    assert "--fp32 says how to train a build: it cannot change one given with --zoo" in capsys.readouterr().err


def test_the_building_page_quotes_the_recorded_first_build():
    """The page shown while the default zoo builds says how long the first build took: the figure committed by
    scripts/demo_build_time.py, not a number typed in by hand."""
    record = json.loads((Path(__file__).parents[2] / "docs/results/demo_build/results.json").read_text())
    seconds = record["build"]["seconds"]
    assert zoo_module.FIRST_BUILD == f"{int(seconds // 60)} min {round(seconds % 60):.0f} s"
    assert record["build"]["settings"]["families"] == list(BuildSettings().families)  # a build with every family
    assert record["build"]["family_methods"] == BuildSettings().family_methods()  # and with today's recipes
    assert zoo_module.FIRST_BUILD in zoo_module.build_time_note()
