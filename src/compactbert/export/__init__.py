"""Exporting compactbert models (every family, every head) to ONNX and OpenVINO, and running them.

- `formats`: the formats (`FORMATS`: onnx, openvino) and the heads that can be exported (`EXPORT_TASKS`);
- `graph`: the inputs and outputs of a head, the graph capture (`torch.export`) and the writers
  (`torch.onnx.export`, `openvino.convert_model` + `openvino.save_model`);
- `exporter`: `export_model` (`compactbert export`): the folder (graph, config, tokenizer, export.json), written all
  or nothing and verified against PyTorch;
- `texts`: the texts an export is verified and calibrated on (the model's task, else built-in texts);
- `verdict`: what a failed or missing verification means when an exported folder is written or loaded
  (`FailedExportWarning`, `UnverifiedExportWarning`);
- `runtime`: opening an exported folder with ONNX Runtime or OpenVINO (no torch);
- `backends`: the runtime backends of `compactbert.inference.load_for_inference` (`RuntimeInferenceModel`);
  `cache`: where they keep their on-the-fly exports, and how stale ones go; `auto`: `backend="auto"`'s choice.

The runtimes are optional: `pip install 'compactbert[openvino]'` or `'compactbert[onnx]'`. Importing this package
loads no torch; the names that need it load it on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_names
from .formats import (
    EXPORT_TASKS,
    FORMATS,
    RUNTIMES,
    ExportFormat,
    ExportTask,
    MissingRuntimeError,
    get_format,
    get_task,
)

if TYPE_CHECKING:
    from .auto import BackendChoice, choose_backend
    from .backends import RuntimeInferenceModel
    from .cache import default_cache_dir
    from .exporter import (
        AGREEMENT_THRESHOLD,
        DEFAULT_VERIFY_SAMPLES,
        ExportResult,
        default_output,
        export_model,
        verify_export,
    )
    from .runtime import EXPORT_INFO, open_session, read_export_info
    from .texts import SAMPLE_TEXTS, DataNotLoadedWarning
    from .verdict import FailedExportWarning, UnverifiedExportWarning

_LAZY = {
    "exporter": (
        "AGREEMENT_THRESHOLD",
        "DEFAULT_VERIFY_SAMPLES",
        "ExportResult",
        "default_output",
        "export_model",
        "verify_export",
    ),
    "runtime": ("EXPORT_INFO", "open_session", "read_export_info"),
    "texts": ("SAMPLE_TEXTS", "DataNotLoadedWarning"),
    "verdict": ("FailedExportWarning", "UnverifiedExportWarning"),
    "backends": ("RuntimeInferenceModel",),
    "cache": ("default_cache_dir",),
    "auto": ("BackendChoice", "choose_backend"),
}

__all__ = [
    "EXPORT_TASKS",
    "FORMATS",
    "RUNTIMES",
    "ExportFormat",
    "ExportTask",
    "MissingRuntimeError",
    "get_format",
    "get_task",
    # exporter (loads torch)
    "AGREEMENT_THRESHOLD",
    "DEFAULT_VERIFY_SAMPLES",
    "SAMPLE_TEXTS",
    "ExportResult",
    "default_output",
    "export_model",
    "verify_export",
    "DataNotLoadedWarning",
    "FailedExportWarning",
    "UnverifiedExportWarning",
    # runtime (loads the runtime)
    "EXPORT_INFO",
    "open_session",
    "read_export_info",
    # backends and auto (load torch)
    "BackendChoice",
    "RuntimeInferenceModel",
    "choose_backend",
    "default_cache_dir",
]


__getattr__, __dir__ = lazy_names(__name__, {n: f".{m}" for m, names in _LAZY.items() for n in names})
