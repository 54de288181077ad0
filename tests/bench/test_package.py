"""The compactbert.bench package: its public names, importing it without torch, and scripts/benchmark.py's records."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import compactbert.bench as bench

from support.scripts import load_script

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "compactbert"

# Imports compactbert.bench in a fresh interpreter with the top-level package stubbed by an empty one of the same
# path, so that nothing the top-level package does (it registers the model families lazily) can hide whether this
# package imports torch. What runs is the package's own modules and everything they import.
TORCH_FREE = """
import json, sys, types

package = types.ModuleType("compactbert")
package.__path__ = [{src!r}]
sys.modules["compactbert"] = package

import compactbert.bench as bench

def heavy():
    return sorted(name for name in ("torch", "transformers") if name in sys.modules)

seen = {{"rows": bench.list_bench_models(), "min_sample_ms": bench.DEFAULT_MIN_SAMPLE_MS}}
report = bench.load_report({saved!r})  # re-scored from its per-round samples
seen["markdown"] = bench.markdown_report(report, report.get("command"))
seen["heavy_before"] = heavy()
bench.run_benchmark  # a measuring name: loads the module that times, with torch
seen["heavy_after"] = heavy()
print(json.dumps(seen))
"""


def test_importing_the_package_lists_rows_and_rescores_a_report_without_torch():
    saved = ROOT / "docs" / "results" / "bench" / "bench.json"
    code = TORCH_FREE.format(src=str(SRC), saved=str(saved))
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.splitlines()[-1])
    assert seen["heavy_before"] == []
    assert seen["rows"] == bench.list_bench_models() and seen["rows"][0] == bench.TEACHER
    assert seen["min_sample_ms"] == bench.DEFAULT_MIN_SAMPLE_MS
    assert seen["markdown"] == bench.markdown_report(*_committed(saved))
    assert "torch" in seen["heavy_after"]  # the check above can see torch arrive


def _committed(saved: Path) -> tuple[dict, str]:
    report = bench.load_report(saved)
    return report, report.get("command")


def test_every_public_name_resolves_once():
    assert len(bench.__all__) == len(set(bench.__all__))
    for name in bench.__all__:
        assert getattr(bench, name) is not None, name
    assert set(bench.__all__) <= set(dir(bench))
    # the two reports render under distinct names
    assert bench.markdown_report is not bench.inference_markdown_report
    try:
        bench.no_such_name  # noqa: B018
    except AttributeError as err:
        assert "no_such_name" in str(err)
    else:
        raise AssertionError("an unknown name must raise AttributeError")


def test_distilbert_layers_are_the_distillation_packages():
    from compactbert.distillation import DISTILBERT_LAYERS

    assert not hasattr(bench, "DISTILBERT_LAYERS")  # defined once, in compactbert.distillation.student
    student = bench.BENCH_MODELS["distil-6"].build(bench.BuildContext(bench.QUICK))
    assert student.config.kept_layers == list(DISTILBERT_LAYERS)


def _benchmark_script():
    return load_script("benchmark")


def test_the_benchmark_script_records_paths_inside_the_repository_relative_to_it(tmp_path):
    script = _benchmark_script()
    inside = ROOT / "runs" / "bench-bbc-news-minilm" / "model"
    assert script.model_label(str(inside)) == "runs/bench-bbc-news-minilm/model (fine-tuned on bbc-news)"
    assert script.model_label(str(tmp_path)).startswith(str(tmp_path))  # outside: as given
    args = script.parse_args(["--model", str(inside), "--out", str(ROOT / "docs" / "results" / "bench" / "avx2")])
    assert script.command_line(args) == (
        "python scripts/benchmark.py --model runs/bench-bbc-news-minilm/model --out docs/results/bench/avx2"
    )
    assert script.command_line(script.parse_args([])) == "python scripts/benchmark.py"


def test_the_quick_run_classifier_has_a_head_of_its_own_and_loads_as_one():
    """`--quick` runs MiniLM with a new head, saved as a classifier (a bare encoder is not loaded as one)."""
    from compactbert.inference import load_for_inference

    folder = _benchmark_script().quick_classifier()
    assert load_for_inference(folder, dtype="fp32").label_names == [f"LABEL_{i}" for i in range(5)]


def test_committed_bench_results_name_no_local_folder():
    for path in sorted((ROOT / "docs" / "results" / "bench").rglob("*")):
        if path.suffix in (".json", ".md"):
            text = path.read_text(encoding="utf-8")
            for marker in (str(ROOT), "/home/", "/work/", "/Users/"):
                assert marker not in text, f"{path.relative_to(ROOT)} names a local folder ({marker})"
