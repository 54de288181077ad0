"""`compactbert info [MODEL]`: what compactbert offers (families, strategies, built-in models), or what a folder holds."""

from __future__ import annotations

import argparse
import json

from .common import EXIT_OK, Command, millions


class InfoCommand(Command):
    name = "info"
    help = "what compactbert offers, or what a model folder holds"

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "model", nargs="?", help="a model folder or built-in name; omit to list strategies and families"
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
        from ..models import list_families
        from ..shrinking import STRATEGIES

        info = {
            "compactbert": __version__,
            "transformers": transformers.__version__,
            "families": list_families(),
            "strategies": {name: s.description for name, s in STRATEGIES.items()},
            "builtin_models": {name: m.description for name, m in BUILTIN_MODELS.items()},
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
        return EXIT_OK

    @staticmethod
    def describe(model: str, as_json: bool, allow_pickle: bool) -> int:
        from ..checkpoints import describe_model

        info = describe_model(model, allow_pickle=allow_pickle)
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
            scores = provenance["layer_contributions"]
            print("source layer  status   [CLS] in/out cosine")
            for i in range(provenance["source_num_hidden_layers"]):
                status = "kept" if i in provenance["kept_layers"] else "dropped"
                score = "" if scores is None or scores[i] is None else f"{scores[i]:.4f}"
                print(f"{i:12}  {status:7}  {score}")
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
        return EXIT_OK
