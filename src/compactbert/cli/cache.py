"""`compactbert cache`: what compactbert keeps on this machine (the runtime backends' exports, the demo's zoos), its
size, and what can go: `--prune` removes what no run can use again, `--clear` empties a cache.

Only what compactbert wrote is ever removed (an export holding export.json, a demo zoo `zoo-*` and its build's
folders, half-written folders); anything else in a cache folder is listed as not compactbert's and left alone. A demo
zoo's build lock (`demo.zoo`'s one build at a time) is held while its folders are removed, and a zoo whose build is
running is not touched: `--clear` is then refused before anything is removed."""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
from collections.abc import Iterator
from pathlib import Path

from ..io import file_size
from .common import EXIT_OK, Command

CACHES = ("exports", "demo")


class CacheCommand(Command):
    name = "cache"
    help = "what compactbert keeps on this machine (exports, demo zoos) and how much; prune or clear it"
    description = (
        "List compactbert's caches with the size of each entry: the graphs the OpenVINO / ONNX Runtime backends "
        "export on the fly ($COMPACTBERT_CACHE/exports, else $XDG_CACHE_HOME or ~/.cache, then compactbert/exports) "
        "and the demo's zoos ($COMPACTBERT_DEMO_CACHE, else compactbert/demo there). --prune removes what no run can "
        "use again: exports whose source folder is gone or was retrained, what killed exports left a day ago or more "
        "and what killed demo builds left. --clear CACHE empties one (an export is made again when needed; the demo trains its zoo "
        "again, minutes on a CPU); do not clear the demo's while it serves. Only what compactbert wrote is removed."
    )

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        p.add_argument("--prune", action="store_true", help="remove what no run can use again")
        p.add_argument("--clear", choices=[*CACHES, "all"], help="remove everything compactbert wrote in this cache")
        p.add_argument("--json", action="store_true", help="print JSON")

    def run(self, args: argparse.Namespace) -> int:
        removed: list[dict] = []
        clear = CACHES if args.clear == "all" else (args.clear,) if args.clear else ()
        demo = cache_dirs()["demo"]
        with demo_build_locks(demo) as busy:  # what a running build writes is told apart from what a killed one left
            if "demo" in clear and busy:
                raise RuntimeError(
                    f"a demo build is running in {demo} ({', '.join(sorted(busy))}); stop it or let it finish, "
                    "then clear the demo cache (nothing was removed)"
                )
            if args.prune:
                removed += prune_caches(busy)
            removed += clear_caches(clear)
            report = {"caches": list_caches(busy), "removed": removed}
        if args.json:
            print(json.dumps(report, indent=2))
            return EXIT_OK
        for item in removed:
            if item.get("failed"):
                print(f"could not remove {item['path']}: {item['failed']}")
            else:
                print(f"removed {item['path']} ({file_size(item['bytes'])}): {item['why']}")
        for cache in report["caches"]:
            entries = cache["entries"]
            count = f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}, "
            count += file_size(sum(e["bytes"] for e in entries))
            print(f"{cache['name']:<8} {cache['path']}  ({count if cache['exists'] else 'not made yet'})")
            for entry in entries:
                note = f"  {entry['note']}" if entry["note"] else ""
                print(f"  {entry['name']:<60} {file_size(entry['bytes']):>9}{note}")
        return EXIT_OK


def cache_dirs() -> dict[str, Path]:
    """Each cache by name: where it is on this machine (it may not exist yet)."""
    from ..demo.zoo import default_cache_dir as demo_cache_dir
    from ..export.cache import default_cache_dir as exports_cache_dir

    return {"exports": exports_cache_dir(), "demo": demo_cache_dir()}


def list_caches(busy: set[str]) -> list[dict]:
    """Each cache with its folders: name, size in bytes and a note (what it is, or why it can go). `busy`: the demo
    zoos whose build is running (`demo_build_locks`); a zoo's half-written folder is being written only then."""
    from ..demo.zoo import default_zoo_dir, zoo_of
    from ..export.cache import CACHE_RECORD, killed_leftover, recorded_source, why_stale

    current = default_zoo_dir().name
    caches = []
    for name, root in cache_dirs().items():
        entries = []
        for path in _folders(root):
            zoo = zoo_of(path)
            if not _ours(name, path):
                note = "not compactbert's: left alone"
            elif _demo_leftover(path, busy) if name == "demo" else killed_leftover(path):
                note = "left by a killed export or build: --prune removes it"
            elif path.name.endswith(".staging"):
                note = (
                    "an unfinished build of the demo's zoo: the next `compactbert demo` resumes it"
                    if zoo == current
                    else "an unfinished build of a zoo of other settings or another version"
                )
            elif path.name.startswith("."):
                note = "being written"
            elif name == "exports" and not (path / CACHE_RECORD).is_file():
                note = "made by an earlier compactbert and not loaded since: only --clear exports removes it"
            elif name == "exports":
                why = why_stale(path)
                note = f"stale: {why} (--prune removes it)" if why else f"from {recorded_source(path)}"
            else:
                note = "the demo's zoo" if zoo == current else "a zoo of other settings or another version"
            entries.append({"name": path.name, "bytes": folder_bytes(path), "note": note})
        caches.append({"name": name, "path": str(root), "exists": root.is_dir(), "entries": entries})
    return caches


def prune_caches(busy: set[str] = frozenset()) -> list[dict]:
    """Remove the stale exports and killed exports' and builds' leftovers (not those of a zoo in `busy`, whose build
    is running); returns what went, with why."""
    from ..export.cache import prune

    dirs = cache_dirs()
    sizes = {path: folder_bytes(path) for path in _folders(dirs["exports"])}
    removed = [{"path": str(path), "bytes": sizes.get(path, 0), "why": why} for path, why in prune(dirs["exports"])]
    for path in _folders(dirs["demo"]):
        if _ours("demo", path) and _demo_leftover(path, busy):
            removed.append(_remove(path, "left by a killed demo build"))
    return removed


def _demo_leftover(path: Path, busy: set[str]) -> bool:
    """A demo zoo's half-written folder (`.zoo-*.partial-*` / `.old-*`) while no build of that zoo runs (`busy`: the
    zoos whose build is running). Only a build, which holds the zoo's lock, writes there, so a killed one left it,
    however young (the next build removes it too); a running build's is left alone, however old."""
    from ..demo.zoo import zoo_of

    half = path.name.startswith(".") and (".partial-" in path.name or ".old-" in path.name)
    return half and zoo_of(path) is not None and zoo_of(path) not in busy


def clear_caches(names) -> list[dict]:
    """Remove everything compactbert wrote in the caches `names` (the caller holds the demo's build locks)."""
    dirs = cache_dirs()
    return [_remove(path, f"--clear {name}") for name in names for path in _folders(dirs[name]) if _ours(name, path)]


@contextlib.contextmanager
def demo_build_locks(root: Path) -> Iterator[set[str]]:
    """Hold the build lock of every zoo in the demo cache `root` (a build that starts now waits); yields the zoos
    whose lock a running build holds."""
    from ..demo.zoo import build_lock_path, zoo_of

    busy: set[str] = set()
    with contextlib.ExitStack() as stack:
        for zoo in sorted({zoo_of(path) for path in _folders(root)} - {None}):
            handle = stack.enter_context(open(build_lock_path(root / zoo), "a"))
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                busy.add(zoo)
                continue
            stack.callback(fcntl.flock, handle, fcntl.LOCK_UN)
        yield busy


def _folders(root: Path) -> list[Path]:
    """The folders of a cache (not its builds' lock files, not links), none when it does not exist yet."""
    if not root.is_dir():
        return []
    return [path for path in sorted(root.iterdir()) if path.is_dir() and not path.is_symlink()]


def _ours(cache: str, path: Path) -> bool:
    """Whether compactbert wrote `path` in the cache `cache`."""
    if cache == "exports":
        from ..export.cache import is_entry

        return is_entry(path)
    from ..demo.zoo import zoo_of

    return zoo_of(path) is not None


def _remove(path: Path, why: str) -> dict:
    from ..export.cache import remove_folder

    size = folder_bytes(path)
    failed = remove_folder(path)
    return {"path": str(path), "bytes": size, "why": why} | ({"failed": failed} if failed else {})


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
