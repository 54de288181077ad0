"""The export formats and the heads that can be exported: plain records, importable without torch (the CLI lists them
in `compactbert export --help`)."""

from __future__ import annotations

from dataclasses import dataclass


class MissingRuntimeError(ImportError, RuntimeError):
    """A package an export format or runtime needs is not installed; the message names the extra that installs it.

    An `ImportError` (what it is) and a `RuntimeError` (so the command line prints it as a message, not a traceback).
    """


@dataclass(frozen=True)
class ExportTask:
    """A head that can be exported: the Auto class that loads it and the outputs its graph returns."""

    name: str
    auto_class: str
    outputs: tuple[str, ...]
    architecture_suffix: str  # a config's `architectures[0]` ending in this names this head


EXPORT_TASKS = {
    t.name: t
    for t in (
        ExportTask(
            "sequence-classification", "AutoModelForSequenceClassification", ("logits",), "ForSequenceClassification"
        ),
        ExportTask("token-classification", "AutoModelForTokenClassification", ("logits",), "ForTokenClassification"),
        ExportTask(
            "question-answering",
            "AutoModelForQuestionAnswering",
            ("start_logits", "end_logits"),
            "ForQuestionAnswering",
        ),
        ExportTask("base", "AutoModel", ("last_hidden_state", "pooler_output"), "Model"),
    )
}


@dataclass(frozen=True)
class ExportFormat:
    """A format models are exported to, and the runtime that runs it."""

    name: str
    runtime: str  # the backend name in `compactbert.inference` (and the package that runs it)
    title: str  # the runtime's name as cards, reports and the demo show it
    extra: str  # the compactbert extra that installs what the format needs
    export_needs: tuple[str, ...]  # importable modules that writing the format needs
    files: tuple[str, ...]  # the files the exported graph is (in the folder's root)
    attention: str  # the attention implementation the graph is captured with
    dtypes: tuple[str, ...]  # the precisions the runtime can run the graph in

    @property
    def install_hint(self) -> str:
        """How to install the extra: compactbert is on no package index, so the checkout's form too."""
        return f"pip install 'compactbert[{self.extra}]' (from a checkout: pip install -e '.[{self.extra}]')"


FORMATS = {
    f.name: f
    for f in (
        # eager attention: the ONNX graph is plain matmuls and a softmax either way, and this path is the one the
        # inference study validated (bench/inference_options)
        ExportFormat(
            "onnx",
            "onnxruntime",
            "ONNX Runtime",
            "onnx",
            ("onnx", "onnxscript", "onnxruntime"),
            ("model.onnx",),
            "eager",
            ("fp32", "int8"),  # int8: the linear layers' weights quantized at export (export/quantize.py)
        ),
        # SDPA: OpenVINO converts torch's scaled_dot_product_attention into its own fused attention operation
        ExportFormat(
            "openvino",
            "openvino",
            "OpenVINO",
            "openvino",
            ("openvino",),
            ("openvino_model.xml", "openvino_model.bin"),
            "sdpa",
            ("fp32", "bf16", "int8"),  # int8: a graph quantized at export (export/quantize.py)
        ),
    )
}
RUNTIMES = {f.runtime: f for f in FORMATS.values()}  # backend name -> the format it runs
BACKENDS = ("torch", "auto", *RUNTIMES)  # what `load_for_inference(backend=)`, `evaluate --backend` and a recipe take
DEFAULT_VERIFY_SAMPLES = 256  # the texts an export is verified on by default (the task's test split's first)
# what quantizing a graph of each format to int8 needs (export/quantize.py)
QUANTIZE_NEEDS = {"openvino": ("openvino", "nncf"), "onnx": ("onnx", "onnxruntime")}
INT8_RUNTIME = "openvino-int8"  # OpenVINO running a graph quantized to int8 by NNCF (`--dtype int8`)
# ONNX Runtime running a graph whose linear layers' weights were quantized to int8 (activations at run time): the
# int8 that pays on CPUs without VNNI, where OpenVINO's int8 graph runs no faster than its fp32 one (docs/speed.md)
ORT_INT8_RUNTIME = "onnxruntime-int8"
INT8_RUNTIMES = (INT8_RUNTIME, ORT_INT8_RUNTIME)  # what the demo and the bench offer beside the fp32 / bf16 runtimes
# every way a model runs outside PyTorch, by the name the bench's --backend and the demo's runtime use: (the export
# format it runs, the precision of its graph; int8's other operations run at the setting's precision)
RUNTIME_EXPORTS = {
    "openvino": ("openvino", "fp32"),
    INT8_RUNTIME: ("openvino", "int8"),
    "onnxruntime": ("onnx", "fp32"),
    ORT_INT8_RUNTIME: ("onnx", "int8"),
}
# the same kinds as a zoo recipe's `exports:` names them, each a subfolder of that name: fp32 ones by their format
EXPORT_KINDS = {(fmt if dtype == "fp32" else name): (fmt, dtype) for name, (fmt, dtype) in RUNTIME_EXPORTS.items()}


def runtime_title(name: str | None) -> str:
    """What runs a model, as people read it: `"torch"` -> `"PyTorch"`, `"onnxruntime"` -> `"ONNX Runtime"`, a format
    (`"onnx"`) or a runtime of `RUNTIME_EXPORTS` (`"openvino-int8"` -> `"OpenVINO"`: the precision is said apart).
    No name (a record from before runtimes were recorded) is PyTorch."""
    if not name or name == "torch":
        return "PyTorch"
    if name in RUNTIME_EXPORTS:
        return FORMATS[RUNTIME_EXPORTS[name][0]].title
    if name in FORMATS:
        return FORMATS[name].title
    return name


def kind_needs(fmt: str, dtype: str) -> tuple[str, ...]:
    """The modules that exporting to `fmt` at `dtype` needs (`"int8"`: its quantizer too, NNCF for OpenVINO), checked
    with `missing_modules`."""
    return tuple(dict.fromkeys(FORMATS[fmt].export_needs + (QUANTIZE_NEEDS[fmt] if dtype == "int8" else ())))


def get_format(name: str) -> ExportFormat:
    """The format named `name` (`"onnx"` or `"openvino"`); a `ValueError` names the formats otherwise."""
    if name not in FORMATS:
        raise ValueError(f"unknown export format {name!r}; choose one of: {', '.join(FORMATS)}")
    return FORMATS[name]


def missing_modules(names: tuple[str, ...]) -> list[str]:
    """The modules of `names` that cannot be imported here (checked without importing them)."""
    import importlib.util

    return [name for name in names if importlib.util.find_spec(name) is None]


def require(fmt: ExportFormat, modules: tuple[str, ...] | None = None, doing: str = "exporting to") -> None:
    """Raise a `MissingRuntimeError` that names the extra to install when a module `fmt` needs is missing."""
    missing = missing_modules(fmt.export_needs if modules is None else modules)
    if missing:
        raise MissingRuntimeError(
            f"{doing} {fmt.name} needs {', '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} not "
            f"installed: {fmt.install_hint}"
        )


def task_of(config) -> str:
    """The head a config's `architectures` names (`...ForSequenceClassification` -> `"sequence-classification"`);
    `"base"` for a bare encoder or a head that is not exported (pre-training, masked LM)."""
    architecture = (getattr(config, "architectures", None) or [""])[0]
    for task in EXPORT_TASKS.values():
        if task.name != "base" and architecture.endswith(task.architecture_suffix):
            return task.name
    return "base"


def get_task(name: str) -> ExportTask:
    if name not in EXPORT_TASKS:
        raise ValueError(f"unknown task {name!r}; choose one of: auto, {', '.join(EXPORT_TASKS)}")
    return EXPORT_TASKS[name]
