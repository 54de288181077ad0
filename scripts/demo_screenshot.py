"""Screenshot of the live demo for the README: launch it over the (cached) default zoo, drive it in chromium.

    python scripts/demo_screenshot.py                         # -> docs/images/demo.png, docs/results/demo_screenshot
    python scripts/demo_screenshot.py --zoo PATH --output /tmp/demo.png --record /tmp/shot --strategy bottom \
        --model "fine-tuned (zoo)"                            # another picture needs a --record folder of its own

Also records what the picture shows in figures, in `--record`'s results.json (and a short README.md): how long the
app took to be ready in this process (imports, loading the cached zoo's teacher, launch), the comparison's summary
line and its latencies, the machine, the date and the load average when it started, so the page's caption quotes a
committed result. Needs Debian's chromium at /usr/bin/chromium and the `playwright` package (no browser download).
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shlex  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

from compactbert.hardware import machine_description  # noqa: E402

LOAD_AT_START = os.getloadavg()[0]
DEFAULT_OUTPUT, DEFAULT_RECORD = "docs/images/demo.png", Path("docs/results/demo_screenshot")
# the figures of the page's summary line (compactbert.demo.ui.summary_markdown), as the browser shows its text
SUMMARY_LATENCY = re.compile(
    r"Latency (?P<teacher>[\d.]+) ms vs (?P<compact>[\d.]+) ms \(median of (?P<repeats>\d+), both on (?P<runtime>.+?)\): "
    r"the compact model is (?P<times>[\d.]+)x (?P<way>faster|slower)"
)

CHROMIUM = "/usr/bin/chromium"  # Debian's; the browser tests (tests/demo/conftest.py) launch it the same way
# the machine's closed network makes chromium's background services hang or crash without these
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--zoo", help="zoo folder or manifest (default: the cached default zoo, built if missing)")
    parser.add_argument("--output", default=DEFAULT_OUTPUT)
    parser.add_argument(
        "--record",
        type=Path,
        help=f"folder for results.json (default {DEFAULT_RECORD}, the docs' record, only with the default --output)",
    )
    parser.add_argument("--strategy", default="symmetric")
    parser.add_argument("--drop", type=int, default=3, help="layers to drop (K)")
    parser.add_argument("--model", default="dropped, not retrained")
    parser.add_argument("--example", type=int, default=0, help="which of the zoo's example texts to type")
    args = parser.parse_args()
    if args.record is None:
        if args.output != DEFAULT_OUTPUT:  # the committed record describes the committed picture, not another one
            parser.error(f"--output {args.output} needs a --record folder of its own (not {DEFAULT_RECORD})")
        args.record = DEFAULT_RECORD

    from PIL import Image
    from playwright.sync_api import sync_playwright

    from compactbert.demo import create_demo, launch, resolve_zoo

    zoo = resolve_zoo(args.zoo)
    demo = create_demo(zoo)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _, url, _ = launch(demo, server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    ready = time.perf_counter() - STARTED
    print(f"app ready {ready:.1f} s after this process started (zoo: {zoo.root})")
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    try:
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                profile,
                executable_path=CHROMIUM,
                args=CHROMIUM_ARGS,
                headless=True,
                viewport={"width": 1280, "height": 1400},
            )
            page = context.new_page()
            page.goto(url)
            page.locator("#strategy input").click()
            page.get_by_role("option", name=args.strategy, exact=True).click()
            page.get_by_label(args.model, exact=True).check()
            page.get_by_label("number input for Layers to drop (K)").fill(str(args.drop))
            page.get_by_label("number input for Layers to drop (K)").press("Enter")
            page.locator("#text textarea").fill(zoo.examples[args.example]["text"])
            page.locator("#compare-button").click()
            page.locator("#summary").get_by_text("the compact model is").wait_for(timeout=300_000)
            page.locator("#latency-plot img").wait_for(timeout=60_000)
            page.wait_for_timeout(1000)
            page.screenshot(path=args.output, full_page=True)
            Image.open(args.output).convert("RGB").quantize(colors=256).save(args.output, optimize=True)  # smaller
            summary = page.locator("#summary").inner_text()
            print(summary)
            context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
        demo.close()
    choice = {"strategy": args.strategy, "drop": args.drop, "model": args.model, "example": args.example}
    record(args.record, zoo.root.name, ready, summary, choice, args.output)
    print(f"saved {args.output} and {args.record}/results.json")


def summary_figures(summary: str) -> dict:
    """The latencies, repeats, runtime and speedup in the page's summary line; a clear error if it has none."""
    found = SUMMARY_LATENCY.search(summary)
    if found is None:
        raise ValueError(f"the demo's summary line has no latency figures (has its wording changed?): {summary!r}")
    return {
        "latency_ms": {"teacher": float(found["teacher"]), "compact": float(found["compact"])},
        "repeats": int(found["repeats"]),
        "runtime": found["runtime"],
        "speedup": float(found["times"]) if found["way"] == "faster" else round(1 / float(found["times"]), 2),
    }


def record(out: Path, zoo: str, ready: float, summary: str, choice: dict, image: str) -> dict:
    """Write what the screenshot shows, in figures, to `out`/results.json and a short README.md; returns the record."""
    result = {
        "command": "python " + shlex.join(["scripts/demo_screenshot.py", *sys.argv[1:]]),
        "image": image,
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
        "machine": machine_description(),
        "load_average_at_start": round(LOAD_AT_START, 2),
        "zoo": zoo,
        "choice": choice,
        "ready_seconds": round(ready, 1),
        "summary": summary,
        **summary_figures(summary),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / "README.md").write_text(
        "# The demo's screenshot, in figures\n\n"
        f"Command: `{result['command']}`, on {result['date']} on a {result['machine']} (load average "
        f"{result['load_average_at_start']} when it started), over the cached zoo `{zoo}`. It wrote `{image}`.\n\n"
        f"- ready {result['ready_seconds']} s after the process started (imports, the cached zoo's teacher, launch)\n"
        f"- the page's summary: {summary}\n"
    )
    return result


if __name__ == "__main__":
    main()
