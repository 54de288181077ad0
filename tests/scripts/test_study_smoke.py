"""The study scripts end to end in their `--quick` mode: the real MiniLM teacher fine-tuned on 64 examples, one cell
and one seed on `rotten-tomatoes`, no timing, into temporary folders; results.json and results.md hold the rows.

Both studies share the workdir (`<workdir>-quick`), so the second reuses the teacher the first fine-tuned, as the
committed studies do."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import pytest

from support.scripts import load_script

pytestmark = pytest.mark.slow

COMMON = ["--quick", "--tasks", "rotten-tomatoes", "--seeds", "0", "--no-speed"]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("study")  # the scripts add "-quick"


def check_runs(study, results: dict, workdir: Path, keys: set[str]) -> dict:
    """The runs are the expected ones, each with a real accuracy and a model folder named relative to the workdir."""
    runs, setup = results["runs"], results["setup"]
    assert set(runs) == keys and setup["limit"] == 64 and setup["workdir"] == f"{workdir}-quick"
    assert "speed" not in results  # --no-speed
    for run in runs.values():
        assert 0 <= run["test_accuracy"] <= 1 and run["wall_seconds"] > 0
        assert not Path(run["model_dir"]).is_absolute()
        assert (study.model_folder(run, setup["workdir"]) / "config.json").is_file()
    return runs


def table_row(out: Path, cell: str) -> str:
    (row,) = [
        line
        for line in (out / "results.md").read_text().splitlines()
        if line.startswith(f"| rotten-tomatoes | {cell} |")
    ]
    return row


def test_pruning_study_quick(workdir, tmp_path):
    study = load_script("pruning_study")
    out = tmp_path / "out"
    assert study.main([*COMMON, "--out", str(out), "--workdir", str(workdir), "--cells", "pruned-labels"]) == 0
    runs = check_runs(
        study,
        json.loads((out / "results.json").read_text()),
        workdir,
        {"rotten-tomatoes/teacher", "rotten-tomatoes/pruned-labels/s0"},
    )
    teacher, pruned = runs["rotten-tomatoes/teacher"], runs["rotten-tomatoes/pruned-labels/s0"]
    assert (teacher["num_hidden_layers"], teacher["hidden_size"]) == (6, 384)
    assert (pruned["num_hidden_layers"], pruned["hidden_size"], pruned["intermediate_size"]) == (4, 312, 1200)
    assert pruned["kept_layers"] == [0, 1, 2, 4] and pruned["losses"] == {"label": 1.0}  # even-alternate, labels
    assert table_row(out, "teacher").endswith("| 100.0% | 1 | " + f"{teacher['wall_seconds'] / 60:.1f} | 1.00x |")
    row = table_row(out, "pruned-labels")
    assert row.startswith(
        f"| rotten-tomatoes | pruned-labels | 4 × 312 × 1200 | [0, 1, 2, 4] | {pruned['num_parameters'] / 1e6:.1f}M | "
    )
    retention = pruned["test_accuracy"] / teacher["test_accuracy"] * 100
    assert f"| {pruned['test_accuracy'] * 100:.1f} | {retention:.1f}% | 1 |" in row
    assert (out / "accuracy.png").read_bytes()[:4] == b"\x89PNG"


def test_pruning_study_fp32_and_augmented_cells(workdir, tmp_path):
    """`--fp32` trains a cell without bf16 autocast; `--augment-mlm` augments the training split with the given
    masked LM (TinyBERT's N, p, K) and trains the two-stage cell on it for one original epoch's steps per stage.
    The MLM here is a tiny random one with MiniLM's vocabulary: the plumbing is under test, not its words."""
    from transformers import AutoTokenizer, BertConfig, BertForMaskedLM

    from compactbert.assets import builtin_model_path

    study = load_script("pruning_study")
    mlm = tmp_path / "mlm"
    tokenizer = AutoTokenizer.from_pretrained(builtin_model_path("minilm"))
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
    )
    BertForMaskedLM(config).save_pretrained(mlm)
    tokenizer.save_pretrained(mlm)
    out = tmp_path / "out"
    argv = [*COMMON, "--out", str(out), "--workdir", str(workdir), "--cells", "--fp32", "pruned-labels"]
    assert study.main([*argv, "--augment-mlm", str(mlm)]) == 0
    results = json.loads((out / "results.json").read_text())
    runs = results["runs"]
    assert {"rotten-tomatoes/pruned-labels@fp32/s0", "rotten-tomatoes/pruned-stages@augmented/s0"} <= set(runs)
    fp32 = runs["rotten-tomatoes/pruned-labels@fp32/s0"]
    metrics = json.loads((study.model_folder(fp32, f"{workdir}-quick") / "metrics.json").read_text())
    assert metrics["bf16"] is False
    augmentation = results["setup"]["augmentation"]["rotten-tomatoes"]
    assert augmentation["examples"] == 64 and augmentation["rows"] == 64 * 21 and augmentation["seconds"] > 0
    augmented = runs["rotten-tomatoes/pruned-stages@augmented/s0"]
    assert augmented["stages"] == ["intermediate", "prediction"]
    metrics = json.loads((study.model_folder(augmented, f"{workdir}-quick") / "metrics.json").read_text())
    assert [s["global_step"] for s in metrics["train_stages"]] == [2, 2]  # 64 examples / batch 32, per stage
    assert metrics["recipe"]["data"]["task"].endswith("rotten-tomatoes/augmented")
    assert "| rotten-tomatoes | pruned-stages@augmented |" in (out / "results.md").read_text()


def test_albert_conversion_study_quick(workdir, tmp_path, monkeypatch, capsys):
    # --quick writes its results to a new temporary folder: make that one under tmp_path, and read where it went
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    study = load_script("albert_conversion_study")
    assert study.main([*COMMON, "--workdir", str(workdir), "--cells", "e128-all"]) == 0
    out = Path(re.search(r"^wrote (.+)/results\.json", capsys.readouterr().out, re.M).group(1))
    assert out.parent == tmp_path
    runs = check_runs(
        study,
        json.loads((out / "results.json").read_text()),
        workdir,
        {"rotten-tomatoes/teacher/s0", "rotten-tomatoes/e128-all/s0"},
    )
    albert = runs["rotten-tomatoes/e128-all/s0"]
    assert (albert["embedding_size"], albert["sharing"], albert["shared_init"]) == (128, "all", "middle")
    assert albert["stages"] == ["intermediate", "prediction"]
    row = table_row(out, "e128-all")
    assert row.startswith(f"| rotten-tomatoes | e128-all | 128 | all | {albert['num_parameters'] / 1e6:.2f}M | ")
    assert f"| {albert['test_accuracy'] * 100:.1f} | " in row
    assert table_row(out, "teacher")
    assert (out / "accuracy.png").read_bytes()[:4] == b"\x89PNG"

    # --batch-size and --fp32: cells named after them, trained with that batch and without bf16 autocast
    argv = [*COMMON, "--workdir", str(workdir), "--cells", "e128-all", "--batch-size", "16", "--fp32", "--no-speed"]
    assert study.main(argv) == 0
    out = Path(re.search(r"^wrote (.+)/results\.json", capsys.readouterr().out, re.M).group(1))
    run = json.loads((out / "results.json").read_text())["runs"]["rotten-tomatoes/e128-all@bs16@fp32/s0"]
    metrics = json.loads((study.model_folder(run, f"{workdir}-quick") / "metrics.json").read_text())
    assert [s["global_step"] for s in metrics["train_stages"]] == [4, 4]  # 64 examples / batch 16, per stage
    assert metrics["bf16"] is False


def test_sop_nsp_study_continues_a_converted_start_without_fine_tuning(tmp_path, monkeypatch, capsys):
    from transformers import AutoTokenizer

    import compactbert
    from compactbert.assets import builtin_model_path

    start = tmp_path / "start"  # MiniLM's bottom two layers, converted: two applications of the shared layer
    source = compactbert.shrink("minilm", "top", num_drop=4)
    compactbert.albert_from_bert(source, embedding_size=16, sharing="all").save_pretrained(start)
    AutoTokenizer.from_pretrained(builtin_model_path("minilm")).save_pretrained(start)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    study = load_script("albert_sop_study")
    argv = ["--quick", "--start", str(start), "--learning-rate", "1e-4", "--mlm-weight", "0.5", "--no-finetune"]
    assert study.main(argv) == 0
    out = Path(re.search(r"^results: (.+)/results\.md", capsys.readouterr().out, re.M).group(1))
    saved = json.loads((out / "results.json").read_text())
    assert set(saved["cells"]) == {"pretrain/sop", "pretrain/nsp"}  # no fine-tuning cells
    # machine_description's kinds: "(AMX-BF16, ...)", "(AVX512-BF16)", "(AVX2, no bf16 units)"
    kinds = r"AMX-BF16[^)]*|AVX512-BF16|AVX2, no bf16 units"
    assert re.match(rf"\d+-core .*\(({kinds})\), load average at start ", saved["machine"])
    assert saved["budget"]["start"] == str(start.resolve()) and saved["budget"]["learning_rate"] == 1e-4
    assert saved["budget"]["mlm_weight"] == 0.5
    for cell in saved["cells"].values():
        assert 0 <= cell["sop_accuracy"] <= 1 and 0 <= cell["nsp_accuracy"] <= 1
        assert cell["num_parameters"] > compactbert.albert_from_bert(source, 16).num_parameters()  # + the heads
    report = (out / "results.md").read_text()
    assert (
        "E=16, H=384, 2 layer applications, sharing all" in report
        and "converted from sentence-transformers/all-MiniLM-L6-v2" in report
    )
    assert "learning rate 0.0001" in report and "(shared layers from its middle)" in report
    assert "loss = 0.5 x MLM + sentence" in report
    for cell in saved["cells"].values():  # the weight reached the trainer: the logged total is the weighted sum
        for h in (h for h in cell["log_history"] if "mlm_loss" in h and "loss" in h):
            assert h["loss"] == pytest.approx(0.5 * h["mlm_loss"] + h["sentence_loss"], abs=2e-3)


def test_albert_pretrain_probe_records_accuracies_and_the_spread_per_layer(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    probe = load_script("albert_pretrain_probe")
    with pytest.raises(
        ValueError,
        match=r"cell 'e128-every' is not of the form e<E>-<none\|attention\|ffn\|all>\[\+general\]\[\+prior\]",
    ):
        probe.main(["--quick", "--cells", "e128-every"])
    assert not list(tmp_path.glob("albert-probe-quick-*"))  # refused before any work
    assert probe.main(["--quick", "--cells", "e384-none", "e32-all+general+prior"]) == 0
    out = Path(re.search(r"^wrote (.+)/results\.json", capsys.readouterr().out, re.M).group(1))
    saved = json.loads((out / "results.json").read_text())
    assert list(saved["cells"]) == ["e384-none", "e32-all+general+prior"]
    exact, general = saved["cells"]["e384-none"], saved["cells"]["e32-all+general+prior"]
    assert exact["embedding_reconstruction_error"] < 1e-6 < general["embedding_reconstruction_error"]
    assert "general" not in exact and general["general"]["steps"] == probe.QUICK["general_steps"]
    layers = 7  # the embedding output and MiniLM's six layers (six applications of the shared one)
    for cell in (exact, general):
        assert cell["steps"] == probe.QUICK["steps"] and 0 <= cell["mlm_accuracy"] <= 1
        assert len(cell["spread_converted"]) == len(cell["spread_pretrained"]) == layers
        assert all(s > 0 for s in cell["spread_converted"])
    assert len(general["spread_general"]) == layers
    # the general-distilled folder says what it is, for a later albert_sop_study run that starts from it
    (stage,) = tmp_path.glob("**/e32-all+general+prior/general/metrics.json")
    assert json.loads(stage.read_text()) | {"loss_first": 0, "loss_last": 0} == {
        "stage": "general", "teacher": "minilm", "learning_rate": probe.DEFAULTS["general_learning_rate"],
        "steps": probe.QUICK["general_steps"], "texts": general["general"]["texts"], "loss_first": 0, "loss_last": 0,
    }  # fmt: skip
    assert 0 < saved["majority_token_share"] < 1
    row = next(
        line for line in (out / "results.md").read_text().splitlines() if line.startswith("| e32-all+general+prior |")
    )
    assert row.startswith(f"| e32-all+general+prior | 32 | all | {general['embedding_reconstruction_error']:.2f} | ")
    assert f"| {general['spread_general'][-1]:.3f} | {general['spread_pretrained'][-1]:.3f} |" in row
    assert (out / "spread.png").read_bytes()[:4] == b"\x89PNG"
