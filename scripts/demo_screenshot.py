"""Screenshot of the live demo for the README: launch it over the (cached) default zoo, drive it in chromium.

    python scripts/demo_screenshot.py                         # -> docs/images/demo.png
    python scripts/demo_screenshot.py --zoo PATH --output /tmp/demo.png --strategy bottom --model "fine-tuned (zoo)"

Also prints how long the app took to be ready in this process (imports, loading the cached zoo's teacher, launch).
Needs Debian's chromium at /usr/bin/chromium and the `playwright` package (no browser download).
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import argparse  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import tempfile  # noqa: E402

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
    parser.add_argument("--output", default="docs/images/demo.png")
    parser.add_argument("--strategy", default="symmetric")
    parser.add_argument("--drop", type=int, default=3, help="layers to drop (K)")
    parser.add_argument("--model", default="dropped, not retrained")
    parser.add_argument("--example", type=int, default=0, help="which of the zoo's example texts to type")
    args = parser.parse_args()

    from PIL import Image
    from playwright.sync_api import sync_playwright

    from compactbert.demo import create_demo, launch, resolve_zoo

    zoo = resolve_zoo(args.zoo)
    demo = create_demo(zoo)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _, url, _ = launch(demo, server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    print(f"app ready {time.perf_counter() - STARTED:.1f} s after this process started (zoo: {zoo.root})")
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    try:
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                profile,
                executable_path="/usr/bin/chromium",
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
            page.locator("#summary").get_by_text("speedup").wait_for(timeout=300_000)
            page.locator("#latency-plot img").wait_for(timeout=60_000)
            page.wait_for_timeout(1000)
            page.screenshot(path=args.output, full_page=True)
            Image.open(args.output).convert("RGB").quantize(colors=256).save(args.output, optimize=True)  # smaller
            print(page.locator("#summary").inner_text())
            context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
        demo.close()
    print(f"saved {args.output}")


if __name__ == "__main__":
    main()
