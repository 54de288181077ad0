"""What an Albert-SOP's model card says about how it was made, from its `config.json` and what pretraining recorded
(no model code needed)."""

from __future__ import annotations

from ..registry import recorded_or_config

OBJECTIVE_NAMES = {"sop": "sentence-order prediction (SOP)", "nsp": "next-sentence prediction (NSP)"}


def describe_method(config: dict, recorded: dict) -> dict:
    """The factorized embedding, the sharing mode, the sentence objective and the pretraining run."""
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
    }
