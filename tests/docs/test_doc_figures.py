"""Every figure the README and the guides quote matches the committed result file it comes from (and names the machine
kind it was measured on), and every figure that is an output of the code or the data matches the code."""

import re
import sys
from collections import Counter
from pathlib import Path

import pytest
import torch
from transformers import AutoConfig, AutoModel

from compactbert import TinyBertConfig, TinyBertModel
from compactbert.assets import builtin_model_path
from compactbert.data import load_task
from compactbert.data.builtin import find_rotten_tomatoes

from doc_pages import ROOT, read

SCRIPTS = ROOT / "scripts"


sys.path.insert(
    0, str(SCRIPTS)
)  # doc_figures.py and the modules it imports (doc_claims, doc_claims_speed, doc_findings, doc_results, doc_tables, ...)
import doc_figures  # noqa: E402
import doc_results  # noqa: E402


@pytest.fixture(scope="module")
def figures():
    return doc_figures


@pytest.fixture(scope="module")
def bbc():
    return load_task("bbc-news", seed=42)


@pytest.fixture(scope="module")
def rotten_tomatoes():
    try:
        find_rotten_tomatoes()
    except FileNotFoundError:
        pytest.skip("the Rotten Tomatoes data file (shared/data/rotten_tomatoes) is not on this machine")
    return load_task("rotten-tomatoes", seed=42)


def test_every_figure_matches_its_result_file(figures):
    problems = figures.check()
    assert problems == [], "\n".join(problems)


def test_the_check_catches_a_wrong_figure_and_a_missing_machine(figures):
    """The checker itself: a quoted figure changed, a figure with no source, a section without its machine kind."""
    page = "docs/speed.md"
    text = read(page)
    measured = f"{doc_results.inference_speedup('bf16', 32):.2f}x"  # what the result file says
    changed = f"{doc_results.inference_speedup('bf16', 32) + 0.11:.2f}x"
    right = f"are {measured} faster than fp32 at batch 32"
    assert right in text
    wrong = figures.check_page(page, text.replace(right, f"are {changed} faster than fp32 at batch 32"))
    assert any(f"{measured} faster" in p for p in wrong) and any(f"'{changed}' has no source" in p for p in wrong)
    unsourced = figures.check_page(page, text + "\nThe demo answers in 12.5 ms.\n")
    assert any("'12.5 ms' has no source" in p for p in unsourced)
    marked = figures.check_page(page, text + "\nThe demo answers in 12.5 ms [no result file: one try].\n")
    assert marked == []
    machine = figures.check_page(page, text.replace("AVX2", "a CPU"))
    assert any("does not name the machine" in p and "'AVX2'" in p for p in machine)


def _majority(task) -> str:
    counts = Counter(task.dataset["test"]["label"])
    return f"{max(counts.values()) / sum(counts.values()) * 100:.1f}"


def _tinybert_counts() -> dict[str, int]:
    with torch.device("meta"):
        shared = TinyBertModel(TinyBertConfig())
        per_layer = TinyBertModel(TinyBertConfig(fit_projection="per-layer"))
    encoder = sum(p.numel() for name, p in shared.named_parameters() if not name.startswith("fit_dense"))
    return {
        "encoder": encoder,
        "shared": shared.num_parameters(),
        "per hidden state": (per_layer.num_parameters() - encoder) // (per_layer.config.num_hidden_layers + 1),
    }


def _minilm_parameters() -> int:
    with torch.device("meta"):
        return AutoModel.from_config(AutoConfig.from_pretrained(builtin_model_path("minilm"))).num_parameters()


# What each fact of doc_findings.CODE_FIGURES is, computed from the code or the data (the request gives fixtures).
FACTS = {
    "rotten-tomatoes test majority %": lambda request: _majority(request.getfixturevalue("rotten_tomatoes")),
    "bbc-news test majority %": lambda request: _majority(request.getfixturevalue("bbc")),
    "minilm parameters M": lambda request: f"{_minilm_parameters() / 1e6:.1f}M",
    "tinybert-4 encoder parameters": lambda request: f"{_tinybert_counts()['encoder']:,}",
    "tinybert-4 parameters with the shared projection": lambda request: f"{_tinybert_counts()['shared']:,}",
    "tinybert-4 per-layer projection parameters": lambda request: f"{_tinybert_counts()['per hidden state']:,}",
}


CODE_FIGURES = [
    (page, fact, snippet) for page, entries in doc_figures.CODE_FIGURES.items() for fact, snippet in entries
]


@pytest.mark.parametrize(("page", "fact", "snippet"), CODE_FIGURES, ids=[f"{p}:{f}" for p, f, _ in CODE_FIGURES])
def test_code_figures_match_the_code(page, fact, snippet, request):
    assert fact in FACTS, f"{page} quotes the fact {fact!r}; add how to compute it to FACTS in {Path(__file__).name}"
    value = FACTS[fact](request)
    assert re.search(rf"(?<![\d.,]){re.escape(value)}(?![\d,]|\.\d)", snippet), (
        f"{page}: {snippet!r} should quote {fact} = {value}"
    )


def _data_rows() -> dict[str, list[str]]:
    rows = {}
    for line in read("docs/data.md").splitlines():
        match = re.match(r"\| `([\w-]+)` \|(.*)\|$", line)
        if match:
            rows[match.group(1)] = [cell.strip() for cell in match.group(2).split("|")]
    return rows


@pytest.mark.parametrize("name", ["bbc-news", "rotten-tomatoes"])
def test_the_split_table_matches_the_data(name, request):
    task = request.getfixturevalue("bbc" if name == "bbc-news" else "rotten_tomatoes")
    classes, *sizes = _data_rows()[name]
    splits = [task.dataset[s].num_rows for s in ("train", "validation", "test")]
    assert sizes == [f"{n:,}" for n in [*splits, sum(splits)]]
    totals = Counter(label for split in task.dataset.values() for label in split["label"])
    shown = {
        m.group(1): int(m.group(2).replace(",", "")) for m in re.finditer(r"(\w+)(?: \([^)]*\))? ([\d,]+)", classes)
    }
    assert shown == {task.label_names[label]: count for label, count in totals.items()}


def test_split_sizes_the_figures_are_computed_with(bbc, request):
    assert bbc.dataset["test"].num_rows == doc_results.BBC_TEST_ARTICLES
    assert bbc.dataset["train"].num_rows == doc_results.BBC_TRAIN
    assert request.getfixturevalue("rotten_tomatoes").dataset["train"].num_rows == doc_results.RT_TRAIN


def test_a_generated_table_starts_with_its_source_header_and_alignment():
    lines = doc_results.table_start("docs/pruning.md", doc_results.PRUNING, " (here)", ["task", "accuracy"], "lr")
    assert (
        lines[0].startswith("*Measured on: ")
        and "(here). Source: [results.json](results/pruning/results.json)" in lines[0]
    )
    assert lines[1:] == ["", "| task | accuracy |", "|---|---:|"]
    with pytest.raises(ValueError, match="one of l / r per column"):
        doc_results.table_start("docs/pruning.md", doc_results.PRUNING, "", ["task", "accuracy"], "l")


def test_a_study_names_its_cpu_kind_once_for_every_session():
    amd, xeon = "2-core AMD EPYC (AVX512-BF16), load average at start 1.0", "2-core Intel Xeon (AMX-BF16, AVX512-BF16)"
    assert doc_results._named_cpu_kind({"machine": amd}) == "AVX512-BF16"
    assert doc_results._named_cpu_kind({"machine": "2 CPU cores (AVX2 only)"}) == "AVX2"  # the older vocabulary
    same = {"machine": amd, "sessions": [{"machine": amd}, {"machine": amd.replace("1.0", "0.2")}]}
    assert doc_results._named_cpu_kind(same) == "AVX512-BF16"
    with pytest.raises(ValueError, match=r"sessions ran on different kinds of CPU \(AMX, AVX512-BF16\)"):
        doc_results._named_cpu_kind({"machine": xeon, "sessions": [{"machine": amd}, {"machine": xeon}]})
    with pytest.raises(ValueError, match="names no CPU kind"):
        doc_results._named_cpu_kind({"machine": "2 CPU cores"})
