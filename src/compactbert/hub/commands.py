"""The `build` and `push` subcommands (registered in `compactbert.cli` by `add_commands`)."""

from __future__ import annotations

import argparse


def cmd_build(args: argparse.Namespace) -> int:
    from ..cli import _overrides
    from .build import build, read_recipe

    overrides = _overrides(args.overrides)
    if args.output_dir:
        overrides["output_dir"] = args.output_dir
    if args.overwrite:
        overrides["overwrite"] = True
    recipe = read_recipe(args.recipe, overrides)
    folder = build(recipe)
    info = _read_json(folder / "build.json")
    test, latency, source = info["metrics"]["test"], info["comparison"]["latency"], info["comparison"]["source"]
    print(f"built:      {recipe.name} ({recipe.family}) -> {folder}")
    line = f"test:       accuracy {test['accuracy']:.4f}  macro-F1 {test['macro_f1']:.4f}  ({recipe.task})"
    if source.get("accuracy") is not None:
        line += f"   source: accuracy {source['accuracy']:.4f}  macro-F1 {source['macro_f1']:.4f}"
    print(line)
    m, s = latency["model"], latency["source"]
    print(
        f"latency:    {m['median_ms']:.1f} ms ({m['min_ms']:.1f}-{m['max_ms']:.1f}) vs source {s['median_ms']:.1f} ms "
        f"({s['min_ms']:.1f}-{s['max_ms']:.1f}), median ratio {s['median_ms'] / m['median_ms']:.2f}x "
        f"(batch {latency['batch_size']}, {latency['dtype']}, {latency['threads']} threads, interleaved)"
    )
    target = recipe.repo_id or "ORG/NAME"
    print(f"card:       {folder / 'README.md'} (validated)")
    print(f"publish:    compactbert push {folder} --repo-id {target}")
    return 0


def _read_json(path):
    import json

    return json.loads(path.read_text())


def cmd_push(args: argparse.Namespace) -> int:
    from .push import plan_push, push

    if args.dry_run:
        plan = plan_push(args.folder, args.repo_id, args.repo_type, args.revision, args.private, args.create_pr)
        print(plan.describe())
        print("dry run: nothing was uploaded")
        return 0
    result = push(
        args.folder,
        args.repo_id,
        repo_type=args.repo_type,
        revision=args.revision,
        private=args.private,
        create_pr=args.create_pr,
        commit_message=args.message,
    )
    plan = result.plan
    what = "created and uploaded to" if result.created_repo else "uploaded to"
    print(f"{what} {plan.repo_type} repository {plan.repo_id}: {len(plan.files)} files in one commit")
    print(f"commit:     {result.commit_url}")
    if result.pr_url:
        print(f"pull request: {result.pr_url}")
    for note in result.notes:
        print(f"note:       {note}")
    return 0


def add_commands(commands) -> None:
    """Register `build` and `push` on the CLI's subparsers."""
    p = commands.add_parser(
        "build",
        help="build a zoo entry from its recipe: compact, fine-tune, evaluate, time vs the source, write the card",
        description="Run a zoo recipe (configs/<entry>.yaml) end to end into <output_dir>/model, ready to push. "
        "--field value pairs after the recipe override its training arguments (e.g. --max_train_samples 64).",
    )
    p.add_argument("recipe", help="zoo recipe, e.g. configs/minilm-top3-bbc-news.yaml")
    p.add_argument("--output-dir", help="where to build (default: the recipe's output_dir, else runs/zoo/<name>)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing build")
    p.add_argument("overrides", nargs=argparse.REMAINDER, help="--field value pairs for the training arguments")
    p.set_defaults(func=cmd_build)

    p = commands.add_parser(
        "push",
        help="validate a model folder (or the Space) and upload it to the Hub in one commit",
        description="Check FOLDER (safetensors, config with auto_map and its code, tokenizer, a valid card) and "
        "upload it to --repo-id in one commit. The token comes from HF_TOKEN or `hf auth login`; it is never printed.",
    )
    p.add_argument("folder", help="a folder written by compactbert (e.g. runs/zoo/<name>/model) or space/")
    p.add_argument("--repo-id", required=True, help="namespace/name on the Hub")
    p.add_argument("--repo-type", default="model", choices=["model", "space"], help="default: model")
    p.add_argument("--private", action="store_true", help="create the repository private")
    p.add_argument("--revision", help="branch to commit to (created from main if missing)")
    p.add_argument("--create-pr", action="store_true", help="open a pull request instead of committing")
    p.add_argument("--message", help="commit message")
    p.add_argument("--dry-run", action="store_true", help="check the folder and print what would be uploaded")
    p.set_defaults(func=cmd_push)
