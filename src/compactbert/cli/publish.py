"""`compactbert publish ZOO --org ORG`: every model of a zoo to the Hub, then the Space that loads them."""

from __future__ import annotations

import argparse
import sys

from ..hub.gate import DEFAULT_MIN_RETENTION
from .common import EXIT_OK, Command


class PublishCommand(Command):
    name = "publish"
    help = "publish a zoo's models to the Hub, one repository each, and the Space that loads them"
    description = (
        "Push every model of ZOO (a zoo folder with zoo.json, or `default`) to ORG/<prefix><entry name> in "
        "one commit each, then the Space: its app, a manifest naming those repositories at their commits, and a "
        "wheel of compactbert its requirements install. A repository that already holds the same files is skipped, "
        "so running the same command again finishes a run that stopped part way. The token comes from HF_TOKEN or "
        "`hf auth login`; it is never printed."
    )

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        p.add_argument("zoo", help="a zoo folder (holding zoo.json) or its manifest; `default`: the demo's default "
                       "zoo, once `compactbert demo --build-only` has built it")  # fmt: skip
        p.add_argument("--org", required=True, help="the user or organization the model repositories go to")
        p.add_argument("--space", help="the Space, OWNER/NAME (default: ORG/compactbert-demo)")
        p.add_argument("--prefix", default="", help="put before each entry's name in its repository name")
        p.add_argument("--private", action="store_true", help="create the repositories and the Space private")
        p.add_argument(
            "--wheel", help="a built wheel of compactbert for the Space (default: built from this checkout)"
        )
        p.add_argument(
            "--torch-index-url",
            help="the package index of torch's CPU build, for the Space's requirements (else the default index's "
            "torch, which on Linux brings CUDA packages)",
        )
        p.add_argument(
            "--force",
            action="store_true",
            help="publish models the quality gate refuses (test accuracy not clearly above the majority class, "
            "below --min-retention of the teacher's, or below their recipe's min_retention); their cards then say "
            "that the gate was overridden, and why",
        )
        p.add_argument(
            "--min-retention",
            type=float,
            default=DEFAULT_MIN_RETENTION,
            metavar="SHARE",
            help="the least share of the zoo's teacher's test accuracy every other model must keep to be published "
            f"(default: {DEFAULT_MIN_RETENTION}, 95%%; 0: only the margin over the majority class)",
        )
        p.add_argument(
            "--dry-run", action="store_true", help="check the zoo, print where everything goes, send nothing"
        )

    def run(self, args: argparse.Namespace) -> int:
        import tempfile
        from pathlib import Path

        from ..demo.publish import plan_publish, publish, stage

        options = {
            name: getattr(args, name)
            for name in (
                "zoo",
                "org",
                "space",
                "prefix",
                "private",
                "wheel",
                "torch_index_url",
                "force",
                "min_retention",
            )
        }
        if args.dry_run:
            plan = plan_publish(**options)
            with tempfile.TemporaryDirectory(prefix="compactbert-publish-") as tmp:
                stage(plan, Path(tmp))  # the cards for the repositories render and every folder is checked
                print(plan.describe())
            for warning in plan.warnings():
                print(f"warning: {warning}", file=sys.stderr)
            print("dry run: nothing was built or sent")
            return EXIT_OK
        result = publish(**options)
        pushed = sum(t.status == "pushed" for t in result.plan.targets)
        print(f"published: {pushed} repositories pushed, {len(result.plan.targets) - pushed} already up to date")
        print(f"Space:     {result.space_url}")
        for note in result.notes:
            print(f"note:      {note}")
        return EXIT_OK
