"""`compactbert cache`: what compactbert keeps on this machine (the runtime backends' exports, the demo's zoos), its
size, and what can go: `--prune` removes what no run can use again, `--clear` empties a cache."""

from __future__ import annotations

import argparse
import fcntl
import json
import shutil
from pathlib import Path

from .common import EXIT_OK, Command

CACHES = ("exports", "demo")


class CacheCommand(Command):
    name = "cache"
    help = "what compactbert keeps on this machine (exports, demo zoos) and how much; prune or clear it"
    description = (
        "List compactbert's caches with the size of each entry: the graphs the OpenVINO / ONNX Runtime backends "
        "export on the fly ($COMPACTBERT_CACHE/exports, else ~/.cache/compactbert/exports) and the demo's zoos "
        "($COMPACTBERT_DEMO_CACHE, else ~/.cache/compactbert/demo). --prune removes what no run can use again: "
        "exports whose source folder is gone or was retrained, and what killed exports or builds left a day ago "
        "or more. --clear CACHE empties one (exports are made again when needed; the demo builds its zoo again, "
        "minutes of training)."
    )

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        p.add_argument("--prune", action="store_true", help="remove what no run can use again")
        p.add_argument("--clear", choices=[*CACHES, "all"], help="remove everything in this cache")
        p.add_argument("--json", action="store_true", help="print JSON")

    def run(self, args: argparse.Namespace) -> int:
        removed: list[dict] = []
        if args.prune:
            removed += prune_caches()
        if args.clear:
            removed += clear_caches(CACHES if args.clear == "all" else (args.clear,))
        report = {"caches": list_caches(), "removed": removed}
        if args.json:
            print(json.dumps(report, indent=2))
            return EXIT_OK
        for item in removed:
            print(f"removed {item['path']} ({human_size(item['bytes'])}): {item['why']}")
        for cache in report["caches"]:
            entries = cache["entries"]
            total = sum(e["bytes"] for e in entries)
            count = f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}, {human_size(total)}"
            print(f"{cache['name']:<8} {cache['path']}  ({count if cache['exists'] else 'not made yet'})")
            for entry in entries:
                note = f"  {entry['note']}" if entry["note"] else ""
                print(f"  {entry['name']:<60} {human_size(entry['bytes']):>9}{note}")
        return EXIT_OK


def cache_dirs() -> dict[str, Path]:
    """Each cache by name: where it is on this machine (it may not exist yet)."""
    from ..demo.zoo import default_cache_dir as demo_cache_dir
    from ..export.cache import default_cache_dir as exports_cache_dir

    return {"exports": exports_cache_dir(), "demo": demo_cache_dir()}


def list_caches() -> list[dict]:
    """Each cache with its entries: name, size in bytes and a note (what it is, or why it can go)."""
    from ..demo.zoo import default_zoo_dir
    from ..export.cache import CACHE_RECORD, killed_leftover, why_stale

    current_zoo = default_zoo_dir().name
    caches = []
    for name, root in cache_dirs().items():
        entries = []
        for path in _entries(root):
            if killed_leftover(path):
                note = "left by a killed export or build: --prune removes it"
            elif path.name.endswith(".staging"):
                note = "an unfinished demo build: the next `compactbert demo` resumes it"
            elif path.name.startswith("."):
                note = "being written"
            elif name == "exports" and not (path / CACHE_RECORD).is_file():
                note = "no record of its source (not made by this version): only --clear exports removes it"
            elif name == "exports":
                why = why_stale(path)
                note = f"stale: {why} (--prune removes it)" if why else ""
            else:
                note = "the demo's zoo" if path.name == current_zoo else "a zoo of other settings or another version"
            entries.append({"name": path.name, "bytes": folder_bytes(path), "note": note})
        caches.append({"name": name, "path": str(root), "exists": root.is_dir(), "entries": entries})
    return caches


def prune_caches() -> list[dict]:
    """Remove the stale exports and killed exports' and builds' leftovers; returns what went, with why."""
    from ..export.cache import killed_leftover, prune

    dirs = cache_dirs()
    sizes = {path: folder_bytes(path) for path in _entries(dirs["exports"])}
    removed = [{"path": str(path), "bytes": sizes.get(path, 0), "why": why} for path, why in prune(dirs["exports"])]
    for path in _entries(dirs["demo"]):
        if killed_leftover(path):
            removed.append(_remove(path, "left by a killed demo build"))
    return removed


def clear_caches(names) -> list[dict]:
    """Remove every entry of the caches `names`; refused, removing nothing, while a demo build is running."""
    dirs = cache_dirs()
    for path in _entries(dirs["demo"]) if "demo" in names else []:  # before anything is removed
        if _build_running(dirs["demo"], path):
            raise RuntimeError(
                f"a demo build is writing {path} now; stop it (or let it finish), then clear the demo cache"
            )
    return [_remove(path, f"--clear {name}") for name in names for path in _entries(dirs[name])]


def _entries(root: Path) -> list[Path]:
    """The folders of a cache (not its builds' lock files), none when it does not exist yet."""
    return [path for path in sorted(root.iterdir()) if path.is_dir()] if root.is_dir() else []


def _build_running(root: Path, path: Path) -> bool:
    """Whether a demo build holds the lock of the zoo `path` belongs to (`demo.zoo`'s one build at a time)."""
    zoo = path.name.lstrip(".").split(".partial-")[0].split(".old-")[0].removesuffix(".staging")
    lock = root / f".{zoo}.lock"
    if not lock.is_file():
        return False
    with open(lock) as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


def _remove(path: Path, why: str) -> dict:
    size = folder_bytes(path)
    shutil.rmtree(path, ignore_errors=True)
    return {"path": str(path), "bytes": size, "why": why}


def folder_bytes(path: Path) -> int:
    """The bytes of the files under `path` (links not followed)."""
    total = 0
    for item in path.rglob("*"):
        try:
            if item.is_file() and not item.is_symlink():
                total += item.stat().st_size
        except OSError:
            continue
    return total


def human_size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"
