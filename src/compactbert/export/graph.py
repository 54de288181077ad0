"""From a PyTorch model to an ONNX or OpenVINO graph: the heads, the inputs and outputs, and one graph capture.

A model is exported through `torch.export` (one capture with a dynamic batch and sequence axis, which refuses a
shape-dependent branch instead of baking it in, as tracing would), then written by `torch.onnx.export` (ONNX) or
`openvino.convert_model` + `openvino.save_model` (OpenVINO). The example the graph is captured on is a padded batch of
two texts: a model captured on one unpadded text could skip the attention mask, and its graph would mispredict padded
batches.

Each head is exported as a function of the tokenizer's tensors (`input_ids`, `attention_mask` and, where the model
takes it, `token_type_ids`) to named outputs, the names transformers' outputs (and optimum's exports) use:
`logits` (sequence and token classification), `start_logits` / `end_logits` (question answering), and
`last_hidden_state` (+ `pooler_output` where the model has a pooler) for the bare encoder.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path

import torch
from torch import nn

from .formats import FORMATS, get_task, require

INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
EXAMPLE_TEXTS = ("an example text", "a second and a longer example text")
EXAMPLE_LENGTH = 16  # tokens the example batch is padded to (the graph takes any length up to the model's maximum)
# torch.onnx's exporter, building its operator registry on every export, logs one warning per torchvision operator it
# skips when torchvision is not installed (compactbert does not need it): dropped, by this logger and text only
ONNX_REGISTRY_LOGGER = "torch.onnx._internal.exporter._registration"
TORCHVISION_SKIPPED = "torchvision is not installed. Skipping torchvision::"


class _NoTorchvisionNotices(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.levelno == logging.WARNING and record.getMessage().startswith(TORCHVISION_SKIPPED))


@contextlib.contextmanager
def quiet_torchvision_notices() -> Iterator[None]:
    """Within: torch.onnx's "torchvision is not installed. Skipping torchvision::roi_pool"-style warnings are dropped
    (nothing else of its logger, or of any other, is)."""
    logger, dropped = logging.getLogger(ONNX_REGISTRY_LOGGER), _NoTorchvisionNotices()
    logger.addFilter(dropped)
    try:
        yield
    finally:
        logger.removeFilter(dropped)


def model_input_names(model, tokenizer=None) -> list[str]:
    """The tokenizer tensors the model's forward takes, in `INPUT_NAMES` order (DistilBERT has no token_type_ids)."""
    accepted = inspect.signature(model.forward).parameters
    names = [name for name in INPUT_NAMES if name in accepted]
    if tokenizer is not None:
        produced = set(getattr(tokenizer, "model_input_names", INPUT_NAMES))
        names = [name for name in names if name == "input_ids" or name in produced]
    return names


def output_names(model, task: str) -> list[str]:
    """The outputs the graph of `model` as `task` returns (`pooler_output` only where the encoder has a pooler)."""
    names = list(get_task(task).outputs)
    if "pooler_output" in names and getattr(model, "pooler", None) is None:
        names.remove("pooler_output")
    return names


class NamedOutputs(nn.Module):
    """`model` as a function of its input tensors to a tuple of its named outputs: what the graph captures."""

    def __init__(self, model: nn.Module, outputs: list[str]):
        super().__init__()
        self.model = model
        self.outputs = list(outputs)

    def forward(self, input_ids, attention_mask=None, token_type_ids=None):
        extra = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
        result = self.model(input_ids=input_ids, attention_mask=attention_mask, return_dict=True, **extra)
        return tuple(result[name] for name in self.outputs)


def example_inputs(tokenizer, names: list[str], max_positions: int, vocab_size: int) -> dict[str, torch.Tensor]:
    """A padded batch of two texts (the first one padded), holding the tensors `names`. Without a tokenizer (the
    bench's random-weight rows), random token ids with the same padding."""
    length = min(EXAMPLE_LENGTH, max_positions)
    if tokenizer is None:
        generator = torch.Generator().manual_seed(0)
        ids = torch.randint(1, vocab_size, (2, length), generator=generator)
        mask = torch.ones_like(ids)
        mask[0, length // 2 :] = 0
        batch = {"input_ids": ids.masked_fill(mask == 0, 0), "attention_mask": mask}
    else:
        batch = tokenizer(
            list(EXAMPLE_TEXTS), padding="max_length", truncation=True, max_length=length, return_tensors="pt"
        )
    if not bool((batch["attention_mask"] == 0).any()):
        raise ValueError(f"the example batch of {length} tokens has no padding; the tokenizer pads nothing?")
    return {name: batch[name] if name in batch else torch.zeros_like(batch["input_ids"]) for name in names}


def capture(model, tokenizer, task: str, attention: str = "sdpa"):
    """Capture `model` (fp32, eval mode) as `task` with `torch.export`: dynamic batch and sequence axes. `tokenizer`
    may be None (random token ids make the example batch).

    The model's attention implementation is set to `attention` for the capture and restored afterwards (a family
    without it keeps its own). Returns `(exported program, input names, output names)`.
    """
    inputs, outputs = model_input_names(model, tokenizer), output_names(model, task)
    max_positions = int(getattr(model.config, "max_position_embeddings", 512))
    example = example_inputs(tokenizer, inputs, max_positions, int(model.config.vocab_size))
    batch, sequence = torch.export.Dim("batch", min=1), torch.export.Dim("sequence", min=1, max=max_positions)
    previous = model.config._attn_implementation
    try:
        try:
            model.set_attn_implementation(attention)
        except (ValueError, ImportError):
            pass
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            program = torch.export.export(
                NamedOutputs(model, outputs).eval(),
                (),
                kwargs=example,
                dynamic_shapes={name: {0: batch, 1: sequence} for name in inputs},
                strict=False,
            )
    finally:
        if model.config._attn_implementation != previous:
            model.set_attn_implementation(previous)
    return program, inputs, outputs


def write_onnx(model, tokenizer, task: str, folder: Path) -> dict:
    """Write `folder/model.onnx`; returns what export.json records about the graph (opset, inputs, outputs)."""
    fmt = FORMATS["onnx"]
    require(fmt, ("onnx", "onnxscript"))
    program, inputs, outputs = capture(model, tokenizer, task, fmt.attention)
    path = folder / fmt.files[0]
    with warnings.catch_warnings(), quiet_torchvision_notices():
        warnings.simplefilter("ignore")
        onnx_program = torch.onnx.export(program, (), output_names=outputs, dynamo=True, optimize=True, verbose=False)
    onnx_program.save(str(path))
    import onnx

    proto = onnx.load(str(path), load_external_data=False)
    opset = next(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx"))
    return {
        "inputs": [i.name for i in proto.graph.input],
        "outputs": [o.name for o in proto.graph.output],
        "opset": int(opset),
        "onnx": onnx.__version__,
    }


def write_openvino(model, tokenizer, task: str, folder: Path) -> dict:
    """Write `folder/openvino_model.xml` + `.bin` (fp32 weights); returns what export.json records."""
    fmt = FORMATS["openvino"]
    require(fmt)
    import openvino

    program, inputs, outputs = capture(model, tokenizer, task, fmt.attention)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        converted = openvino.convert_model(program)
    for port, name in zip(converted.inputs, inputs, strict=True):
        port.get_tensor().set_names({name})
    for port, name in zip(converted.outputs, outputs, strict=True):
        port.get_tensor().set_names({name})
    # fp32 weights: OpenVINO's default (fp16) would change an fp32 model's outputs; the inference precision is a
    # run-time choice (export.json's `dtype`), not a property of the file
    openvino.save_model(converted, str(folder / fmt.files[0]), compress_to_fp16=False)
    return {"inputs": inputs, "outputs": outputs, "openvino": openvino.__version__}


WRITERS = {"onnx": write_onnx, "openvino": write_openvino}
