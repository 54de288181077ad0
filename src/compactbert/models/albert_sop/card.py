"""What an Albert-SOP's model card says about how it was made, from its `config.json` and what pretraining or
distillation recorded (no model code needed).

Two kinds of Albert-SOP: one pre-trained from random init (MLM + SOP), and one converted from a trained BERT by
`compactbert.albert_from_bert` (its config records `source_model`), then distilled. The card of a converted one shows
the conversion (E, sharing, shared init, the factorisation and its reconstruction error), where its parameters are
against the source's, and the distillation's stages and losses.
"""

from __future__ import annotations

from ..registry import recorded_or_config
from ..shrunk_bert.card import bert_layer_parameters

OBJECTIVE_NAMES = {"sop": "sentence-order prediction (SOP)", "nsp": "next-sentence prediction (NSP)"}
FACTORIZATION_NAMES = {"svd": "truncated SVD", "frequency_weighted_svd": "frequency-weighted truncated SVD"}
# heads a conversion carries over from the source (with the pooler); a pretraining or masked-LM head is new
CONVERTED_HEADS = (
    "Model",
    "ForSequenceClassification",
    "ForTokenClassification",
    "ForQuestionAnswering",
    "ForMultipleChoice",
)


def parameter_parts(config: dict) -> dict[str, int]:
    """The parameters of the embeddings and of the transformer layers, of this Albert-SOP and of a BERT of the same
    depth and width (its source, when converted), from the config.

    Embeddings: word, position and token-type tables and their LayerNorm (in E-space for ALBERT, with the E -> H
    mapping). Layers: the distinct weights (a block shared by every layer counts once). The pooler and the task head
    are the same in both and are not counted here.
    """
    vocab, hidden, layers = config["vocab_size"], config["hidden_size"], config["num_hidden_layers"]
    embedding = config.get("embedding_size") or hidden
    rows = vocab + config.get("max_position_embeddings", 512) + config.get("type_vocab_size", 2)
    layer = bert_layer_parameters(hidden, config["intermediate_size"])
    attention = 4 * hidden * hidden + 6 * hidden  # Q, K, V, output projection, and their LayerNorm
    ffn = layer - attention
    distinct = {
        "all": layer,
        "attention": attention + layers * ffn,
        "ffn": ffn + layers * attention,
        "none": layers * layer,
    }[config.get("sharing") or "all"]
    return {
        "embeddings": rows * embedding + 2 * embedding + embedding * hidden + hidden,
        "layers": distinct,
        "source_embeddings": rows * hidden + 2 * hidden,
        "source_layers": layers * layer,
    }


def describe_method(config: dict, recorded: dict) -> dict:
    """The factorized embedding, the sharing mode, the sentence objective and the pretraining run; for a model
    converted from a BERT (`converted`), the conversion, its parameters against the source's and the distillation."""
    objective = recorded_or_config(config, recorded, "sentence_objective", "sentence_task", "pair_objective") or "sop"
    sharing = recorded_or_config(config, recorded, "sharing", "sharing_mode", "share_mode", "parameter_sharing")
    return {
        "embedding_size": config.get("embedding_size"),
        "vocab_size": config.get("vocab_size"),
        "sharing": sharing or "all",
        "sentence_objective": objective,
        "sentence_objective_name": OBJECTIVE_NAMES.get(str(objective).lower(), str(objective)),
        "pretraining_steps": recorded.get("pretraining_steps"),
        "pretraining_data": recorded.get("pretraining_data"),
        "pretraining_eval": recorded.get("pretraining_eval"),  # held-out sop/nsp/mlm accuracy after pretraining
        "converted": _conversion(config, recorded),
    }


def _conversion(config: dict, recorded: dict) -> dict | None:
    source = config.get("source_model")
    if not source:
        return None  # pre-trained from random init
    factorization = config.get("embedding_factorization")
    layers, sharing = config["num_hidden_layers"], config.get("sharing") or "all"
    shared = {
        "all": f"one layer, applied {layers} times",
        "attention": "one attention block; a feed-forward block per layer, started as the source layer's",
        "ffn": "one feed-forward block; an attention block per layer, started as the source layer's",
        "none": f"nothing: {layers} layers, layer i started as source layer i",
    }[sharing]
    init = config.get("shared_init")
    if init is not None:
        named = {"mean": f"the elementwise mean of the source's {layers} layers", "first": "the source's first layer"}
        named |= {"middle": f"the source's layer {layers // 2} (0-based)", "last": "the source's last layer"}
        shared += f"; the shared weights started as {named.get(init, f'source layer {init} (0-based)')}"
    stages = [
        {"data": None, "epochs": None} | stage for stage in recorded.get("stages") or [] if isinstance(stage, dict)
    ]
    return {
        "source_model": source,
        "shared_init": init,
        "sharing_text": shared,
        "factorization": FACTORIZATION_NAMES.get(factorization, factorization or "not recorded"),
        "frequency_weighted": factorization == "frequency_weighted_svd",
        "frequency_texts": recorded.get("frequency_texts"),
        "reconstruction_error": config.get("embedding_reconstruction_error"),
        "parameters": parameter_parts(config),
        "teacher": recorded.get("teacher"),
        "losses": [{"weight": None} | loss for loss in recorded.get("losses") or [] if isinstance(loss, dict)],
        "stages": stages,
        "layer_map": recorded.get("layer_map"),
    }


def describe_source(config: dict, method: dict, num_parameters: int) -> dict | None:
    """The BERT a converted model came from: its parameters computed from the config as this model's less its
    embeddings and distinct layer weights plus the source's (the pooler and a carried-over head are the same). `None`
    for a model pre-trained from random init, and for a pretraining or masked-LM head, which the source did not have.
    """
    converted = method.get("converted")
    architecture = (config.get("architectures") or ["AlbertSopModel"])[0]
    if not converted or not architecture.endswith(CONVERTED_HEADS):
        return None
    parts = converted["parameters"]
    others = num_parameters - parts["embeddings"] - parts["layers"]  # the pooler and the head
    return {
        "name": converted["source_model"],
        "architecture": None,
        "num_hidden_layers": config["num_hidden_layers"],
        "hidden_size": config["hidden_size"],
        "num_parameters": parts["source_embeddings"] + parts["source_layers"] + others,
        "parameters_estimated": True,
    }
