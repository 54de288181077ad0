"""`compactbert info [MODEL]`: what compactbert offers (families, strategies, built-in models and tasks), or what a folder holds
(a model folder, or one `compactbert export` wrote)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..io import file_size
from .common import EXIT_OK, Command, millions


class InfoCommand(Command):
    name = "info"
    help = "what compactbert offers, or what a model folder holds"

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "model",
            nargs="?",
            help="a model folder, an exported folder or a built-in name; omit to list strategies and families",
        )
        p.add_argument("--json", action="store_true", help="print JSON")
        p.add_argument("--allow-pickle", action="store_true", help="accept pytorch_model.bin (pickle) weights")

    def run(self, args: argparse.Namespace) -> int:
        if args.model is None:
            return self.offers(args.json)
        return self.describe(args.model, args.json, args.allow_pickle)

    @staticmethod
    def offers(as_json: bool) -> int:
        import transformers

        from .. import __version__
        from ..assets import BUILTIN_MODELS
        from ..data import BUILTIN_TASKS
        from ..models import list_families
        from ..shrinking import STRATEGIES

        info = {
            "compactbert": __version__,
            "transformers": transformers.__version__,
            "families": list_families(),
            "strategies": {name: s.description for name, s in STRATEGIES.items()},
            "builtin_models": {name: m.description for name, m in BUILTIN_MODELS.items()},
            # what --task / task: take by name, offline
            "builtin_tasks": {
                name: {"description": t.description, "labels": list(t.label_names)}
                for name, t in sorted(BUILTIN_TASKS.items())
            },
        }
        if as_json:
            print(json.dumps(info, indent=2))
            return EXIT_OK
        print(f"compactbert {info['compactbert']} (transformers {info['transformers']})")
        print(f"families:  {', '.join(info['families'])}")
        print("strategies:")
        for name, text in info["strategies"].items():
            print(f"  {name:15} {text}")
        print("  (explicit)      --keep-layers / --drop-layers with 0-based indices")
        print("built-in models:")
        for name, text in info["builtin_models"].items():
            print(f"  {name:15} {text}")
        print("built-in tasks (--task NAME; or a data file or a Hub dataset id):")
        for name, task in info["builtin_tasks"].items():
            print(f"  {name:15} {task['description']}; labels: {', '.join(task['labels'])}")
        return EXIT_OK

    @staticmethod
    def describe(model: str, as_json: bool, allow_pickle: bool) -> int:
        from ..checkpoints import describe_model
        from ..export.runtime import EXPORT_INFO

        if (Path(model).expanduser() / EXPORT_INFO).is_file():  # a folder `compactbert export` wrote: no weights
            return describe_export(Path(model).expanduser(), as_json)

        info = describe_model(model, allow_pickle=allow_pickle)
        scores = recorded_scores(Path(info["path"]))
        if scores:
            info["scores"] = scores
        if as_json:
            print(json.dumps(info, indent=2))
            return EXIT_OK
        for key in ("path", "model_type", "architecture", "num_hidden_layers", "hidden_size"):
            print(f"{key:18} {info[key]}")
        print(f"{'parameters':18} {info['parameters']:,} ({millions(info['parameters'])})")
        if info.get("pruning"):
            from .prune import describe_pruning

            pruning = dict(info["pruning"])
            for what, how in describe_pruning(pruning.pop("pruned_from"), pruning):
                print(f"{'pruned ' + what:18} {how}")
        provenance = info.get("provenance")
        if provenance:
            print(f"{'source_model':18} {provenance['source_model']}")
            print(f"{'drop_strategy':18} {provenance['drop_strategy']}")
            contributions = provenance["layer_contributions"]
            scored = contributions is not None and any(c is not None for c in contributions)
            print("source layer  status" + ("   [CLS] in/out cosine" if scored else ""))
            for i in range(provenance["source_num_hidden_layers"]):
                status = "kept" if i in provenance["kept_layers"] else "dropped"
                score = f"  {contributions[i]:.4f}" if scored and contributions[i] is not None else ""
                print(f"{i:12}  {status:7}{score}".rstrip())
        albert = info.get("albert")
        if albert:
            print(f"{'embedding_size':18} {albert['embedding_size']}")
            print(f"{'sharing':18} {albert['sharing']}")
            if albert["source_model"] is not None:  # converted from a BERT (compactbert albert)
                print(f"{'source_model':18} {albert['source_model']}")
                print(f"{'shared_init':18} {albert['shared_init'] or '- (nothing shared: layer i is source layer i)'}")
                error = albert["embedding_reconstruction_error"]
                print(
                    f"{'embedding error':18} {error:.4f} ({albert['embedding_factorization']}: ||W - W_E||_F / ||W||_F)"
                )
        if scores:
            test = scores["test"]
            print(f"{'task':18} {scores['task']}")
            line = f"{test['accuracy']:.4f} (macro-F1 {test['macro_f1']:.4f})"
            if isinstance(test.get("majority_accuracy"), (int, float)):
                line += f"; always {test['majority_label']!r}, the majority class: {test['majority_accuracy']:.4f}"
            print(f"{'test accuracy':18} {line}")
            if scores.get("teacher"):
                line, teacher = scores["teacher"], scores.get("teacher_test_accuracy")
                if teacher:
                    kept = test["accuracy"] / teacher
                    line += f" (test accuracy {teacher:.4f} on the same texts; the model keeps {kept:.1%} of it)"
                print(f"{'teacher':18} {line}")
        return EXIT_OK


def describe_export(folder: Path, as_json: bool) -> int:
    """What an exported folder holds: its format, runtime and precision, the model, its files, how its verification
    against PyTorch went, and the PyTorch folder it was made from (with the scores that folder records)."""
    from ..export.runtime import read_export_info
    from ..export.verdict import find_source

    info = read_export_info(folder) or {}
    source = find_source(folder, info)
    sizes = {name: (folder / name).stat().st_size for name in info.get("files", []) if (folder / name).is_file()}
    scores = recorded_scores(source) if source is not None else None
    if as_json:
        record = info | {"path": str(folder), "source_found": None if source is None else str(source)}
        print(json.dumps(record | ({"scores": scores} if scores else {}), indent=2, default=str))
        return EXIT_OK
    print(f"{'path':18} {folder}")
    print(f"{'exported':18} {info.get('format')} (runs on {info.get('runtime')}), {info.get('dtype')}")
    for key in ("model_type", "architecture", "task"):
        print(f"{key:18} {info.get(key)}")
    if isinstance(info.get("parameters"), int):
        print(f"{'parameters':18} {info['parameters']:,} ({millions(info['parameters'])})")
    files = [f"{name} ({file_size(size)})" for name, size in sizes.items()]
    print(f"{'files':18} {', '.join(files + ['config.json', 'tokenizer', 'export.json'])}")
    quantization = info.get("quantization")
    if isinstance(quantization, dict):
        calibration = (quantization.get("calibration") or {}).get("on")
        print(f"{'quantized':18} int8 with NNCF {quantization.get('nncf')}, calibrated on {calibration}")
    print(f"{'verification':18} {_verification_line(info.get('verification'))}")
    where = "not found from here" if source is None else f"found at {source}"
    print(f"{'source':18} {info.get('source')} ({where})")
    if scores:
        test = scores["test"]
        print(
            f"{'source accuracy':18} {test['accuracy']:.4f} on the test split of {scores['task']} (its metrics.json)"
        )
    return EXIT_OK


def _verification_line(check: dict | None) -> str:
    from .export import agreement

    if not check:
        return "none: exported with --no-verify (loading it warns)"
    verdict = "passed" if check.get("passed") else "FAILED (kept to inspect; do not deploy it)"
    difference = check.get("max_abs_logit_diff")
    difference = f", largest output difference {difference:.2e}" if isinstance(difference, (int, float)) else ""
    return f"{verdict}: {agreement(check)}{difference}, in {check.get('dtype')} on {check.get('on')}"


def recorded_scores(folder: Path) -> dict | None:
    """What a model folder's `metrics.json` (written by finetune, distill and build) says it scored: its task, its
    test accuracy and macro-F1 with the test split's majority class, and after a distillation its teacher and the
    teacher's test accuracy on the same texts. None without a readable `metrics.json` or a test accuracy in it."""
    from ..records import read_metrics

    metrics = read_metrics(folder)
    test = metrics.get("test")
    if not isinstance(test, dict):
        return None
    scores = {
        "task": metrics.get("task"),
        "test": {k: test.get(k) for k in ("accuracy", "macro_f1", "majority_label", "majority_accuracy")},
    }
    if not all(isinstance(scores["test"][k], (int, float)) for k in ("accuracy", "macro_f1")):
        return None
    if isinstance(metrics.get("teacher"), str) and metrics["teacher"]:
        scores["teacher"] = metrics["teacher"]
        teacher = (metrics.get("teacher_scores") or {}).get("test")
        accuracy = teacher.get("accuracy") if isinstance(teacher, dict) else None
        scores["teacher_test_accuracy"] = accuracy if isinstance(accuracy, (int, float)) else None
    return scores
