"""`compactbert push FOLDER --repo-id ORG/NAME`: check a model folder (or the Space) and upload it in one commit."""

from __future__ import annotations

import argparse

from .common import EXIT_OK, Command


class PushCommand(Command):
    name = "push"
    help = "validate a model folder (or the Space) and upload it to the Hub in one commit"
    description = (
        "Check FOLDER (safetensors, config with auto_map and its code, tokenizer, a valid card, and the quality "
        "gate: test accuracy clearly above the majority class; a model never evaluated is refused) and upload it to "
        "--repo-id in one commit. The token comes from HF_TOKEN or `hf auth login`; it is never printed."
    )

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        p.add_argument("folder", help="a folder written by compactbert (e.g. runs/zoo/<name>/model) or space/")
        p.add_argument("--repo-id", required=True, help="namespace/name on the Hub")
        p.add_argument("--repo-type", default="model", choices=["model", "space"], help="default: model")
        p.add_argument("--private", action="store_true", help="create the repository private")
        p.add_argument("--revision", help="branch to commit to (created from main if missing)")
        p.add_argument("--create-pr", action="store_true", help="open a pull request instead of committing")
        p.add_argument("--message", help="commit message")
        p.add_argument("--dry-run", action="store_true", help="check the folder and print what would be uploaded")
        p.add_argument(
            "--save-to",
            metavar="DIR",
            help="with --dry-run: also write the files as they would go up (the card rendered for the repository, the "
            "records without this machine's paths) into the new folder DIR, to read before publishing",
        )
        p.add_argument(
            "--force",
            action="store_true",
            help="publish even if the quality gate refuses the model; the uploaded card then says so, and why",
        )

    def run(self, args: argparse.Namespace) -> int:
        from ..hub.push import check_save_to, plan_push, push

        if args.save_to is not None and not args.dry_run:
            raise ValueError("--save-to writes what a push would upload instead of uploading it: add --dry-run")
        if args.save_to is not None:
            check_save_to(args.save_to, args.folder)  # before the plan is made and printed
        if args.dry_run:
            plan = plan_push(
                args.folder, args.repo_id, args.repo_type, args.revision, args.private, args.create_pr, args.force
            )
            print(plan.describe())
            if args.save_to is not None:
                print(f"wrote those files, as they would go up, to {plan.save(args.save_to)}")
            print("dry run: nothing was uploaded")
            return EXIT_OK
        result = push(
            args.folder,
            args.repo_id,
            repo_type=args.repo_type,
            revision=args.revision,
            private=args.private,
            create_pr=args.create_pr,
            commit_message=args.message,
            force=args.force,
        )
        plan = result.plan
        what = "created and uploaded to" if result.created_repo else "uploaded to"
        print(f"{what} {plan.repo_type} repository {plan.repo_id}: {len(plan.files)} files in one commit")
        print(f"commit:     {result.commit_url}")
        if plan.gate_line:
            print(f"gate:       {plan.gate_line}")
        if result.pr_url:
            print(f"pull request: {result.pr_url}")
        for note in result.notes:
            print(f"note:       {note}")
        return EXIT_OK
