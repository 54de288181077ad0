"""`compactbert export FOLDER --format openvino|onnx`: the model as an OpenVINO or ONNX graph that runs without
PyTorch, with its config and tokenizer, checked against PyTorch."""

from __future__ import annotations

import argparse
import os
import sys

from ..export.formats import DEFAULT_VERIFY_SAMPLES, EXPORT_TASKS, FORMATS
from .common import EXIT_FAILED, EXIT_OK, Command, at_least_one


class ExportCommand(Command):
    name = "export"
    help = "export a model to OpenVINO or ONNX (runs without PyTorch), verified against PyTorch"
    description = (
        "Export a model folder (any family, any head) to OpenVINO (openvino_model.xml + .bin) or ONNX (model.onnx) "
        "with dynamic batch and sequence axes, next to its config.json, tokenizer and an export.json. The exported "
        "model and PyTorch then predict the same texts (the test split of the task the folder's metrics.json names, "
        "else built-in sample texts): the largest logit difference and the share of unchanged predictions are "
        "printed and recorded. Exits 1 when fewer than 99.5% of the predictions are unchanged; that folder is kept "
        "to inspect, its export.json says passed: false, and load_for_inference warns when it loads it."
    )

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        p.add_argument("model", help="a model folder, a built-in name (minilm) or a Hub id")
        p.add_argument("--format", required=True, choices=list(FORMATS), help="openvino or onnx")
        p.add_argument(
            "--dtype",
            default="fp32",
            choices=FORMATS["openvino"].dtypes,
            help="the precision it runs in (default: fp32); bf16 is an OpenVINO inference precision hint, for CPUs "
            "with bf16 units (weights are stored in fp32 either way); int8 quantizes the OpenVINO graph with NNCF, "
            "calibrated on the task's train split (needs nncf: pip install 'compactbert[openvino]'), or the ONNX "
            "graph's linear-layer weights (ONNX Runtime's dynamic quantization: the int8 for CPUs without VNNI)",
        )
        p.add_argument(
            "--calibration-samples",
            type=at_least_one,
            metavar="N",
            help="with --dtype int8: calibrate on at most N texts of the task's train split, else of built-in BBC "
            "News articles (default: 300)",
        )
        p.add_argument(
            "--task",
            default="auto",
            choices=["auto", *EXPORT_TASKS],
            help="the head to export (default: auto, the one the folder's config names; base = the encoder)",
        )
        p.add_argument(
            "--data",
            metavar="TASK_OR_FILE",
            help="verify (and calibrate int8) on this task or data file instead of the one the folder's metrics.json "
            "records, e.g. when that was a path relative to another folder (column names and split seed still come "
            "from metrics.json)",
        )
        p.add_argument(
            "--output",
            "-o",
            help="folder to write (default: MODEL-FORMAT, or MODEL-FORMAT-int8, next to a local folder)",
        )
        p.add_argument(
            "--overwrite",
            action="store_true",
            help="replace the output folder if it exists and is an export folder or empty (never the current "
            "folder or one holding the source)",
        )
        p.add_argument(
            "--verify-samples",
            type=at_least_one,
            metavar="N",
            help=f"verify on at most N texts (default: {DEFAULT_VERIFY_SAMPLES})",
        )
        p.add_argument("--no-verify", action="store_true", help="skip the comparison with PyTorch")
        p.add_argument("--allow-pickle", action="store_true", help="accept pytorch_model.bin (pickle) weights")
        p.add_argument("--revision", help="Hub revision when MODEL is a Hub id")

    def run(self, args: argparse.Namespace) -> int:
        import warnings

        from ..export import default_output, export_model
        from ..export.exporter import INT8_DOES_NOT_HOLD
        from ..export.quantize import DEFAULT_CALIBRATION_SAMPLES
        from ..export.texts import DataNotLoadedWarning
        from ..export.verdict import FailedExportWarning

        # what export_model would refuse in its Python form (dtype=..., overwrite=True), said in this command's
        if args.dtype not in FORMATS[args.format].dtypes:
            raise ValueError(
                f"{args.format} models run in {', '.join(FORMATS[args.format].dtypes)}, not '{args.dtype}'; "
                f"--dtype {args.dtype} is an OpenVINO precision (--format openvino)"
            )
        if args.calibration_samples is not None and args.format == "onnx":
            raise ValueError(
                "--calibration-samples sets the texts an OpenVINO int8 quantization is calibrated on; the ONNX int8 "
                "export quantizes the weights only and calibrates on nothing: leave it out"
            )
        output = args.output or default_output(args.model, args.format, args.dtype)
        if args.calibration_samples is not None and args.dtype != "int8":
            raise ValueError(
                "--calibration-samples sets the texts an int8 quantization is calibrated on: add --dtype int8"
            )
        if args.no_verify and args.verify_samples is not None:
            raise ValueError("--verify-samples sets the texts the verification runs on: leave out --no-verify")
        if os.path.exists(output) and not args.overwrite:
            raise FileExistsError(
                f"output folder {output} already exists; choose another (--output) or pass --overwrite"
            )
        print(f"exporting {args.model} to {args.format} ({args.dtype}) ...")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataNotLoadedWarning)  # said below, naming --data
            warnings.simplefilter("ignore", FailedExportWarning)  # said below, in this command's words
            result = export_model(
                args.model,
                output,
                format=args.format,
                dtype=args.dtype,
                task=args.task,
                verify=not args.no_verify,
                verify_samples=args.verify_samples or DEFAULT_VERIFY_SAMPLES,
                overwrite=args.overwrite,
                revision=args.revision,
                allow_pickle=args.allow_pickle,
                calibration_samples=args.calibration_samples or DEFAULT_CALIBRATION_SAMPLES,
                data=args.data,
            )
        info = result.info
        print(f"wrote {result.folder}: {', '.join(info['files'])}, config.json, tokenizer, export.json")
        print(f"task {info['task']} ({info['architecture']}), inputs {', '.join(info['inputs'])}, outputs "
              f"{', '.join(info['outputs'])}")  # fmt: skip
        quantization = info.get("quantization")
        if quantization and "calibration" not in quantization:  # ONNX: the weights, at export
            print(f"quantized the linear layers' weights to int8 with ONNX Runtime {quantization['onnxruntime']} in "
                  f"{quantization['seconds']:.0f} s (their inputs are quantized as each batch runs)")  # fmt: skip
        elif quantization:
            calibration = quantization["calibration"]
            print(f"quantized to int8 with NNCF {quantization['nncf']} in {quantization['seconds']:.0f} s, calibrated "
                  f"on {calibration['on']}")  # fmt: skip
            say_data_not_loaded("int8 calibration", calibration)
        check = result.verification
        if check is None:
            print(
                "not verified (--no-verify): loading it warns that its predictions were never compared with PyTorch's"
            )
            return EXIT_OK
        rest = f" (the other operations in {check['rest_precision']})" if check.get("rest_precision") else ""
        print(f"verified in {check['dtype']}{rest} against PyTorch fp32 on {check['on']}")
        print(f"largest absolute output difference {check['max_abs_logit_diff']:.2e}, {agreement(check)}")
        say_data_not_loaded("the verification", check)
        if not check["passed"]:
            print(f"verification failed: the rule is {check['rule']}", file=sys.stderr)
            print(
                f"{result.folder} is kept to inspect (export.json says passed: false); do not deploy it: "
                "load_for_inference warns when it loads it, and backend='auto' does not choose it",
                file=sys.stderr,
            )
            if check["dtype"] == "int8":
                print(
                    f"{INT8_DOES_NOT_HOLD}: export it with --dtype bf16 (on a CPU with bf16 units) or fp32 instead",
                    file=sys.stderr,
                )
            return EXIT_FAILED
        return EXIT_OK


def say_data_not_loaded(what: str, record: dict) -> None:
    """Where the model's task could not be loaded (`record["task_not_loaded"]`), say that `what` ran on built-in
    texts, a weaker check, and how to name the data."""
    if record.get("task_not_loaded"):
        print(
            f"note: {what} ran on built-in texts, not the model's own, because {record['task_not_loaded']}; name "
            "the data with --data TASK_OR_FILE (its column names and split seed still come from metrics.json)",
            file=sys.stderr,
        )


def agreement(check: dict) -> str:
    """How far an export's outputs agree with PyTorch's, from its recorded verification: the share of unchanged
    predictions, or for the encoder the lowest cosine similarity."""
    if check.get("predictions_unchanged") is not None:
        return f"predictions unchanged {check['predictions_unchanged']:.1%} of {check.get('predictions_compared')}"
    cosine = check.get("min_cosine_similarity")
    return f"lowest cosine similarity {cosine:.6f}" if isinstance(cosine, (int, float)) else "not compared"
