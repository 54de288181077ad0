"""Run a documentation example and record what each of its lines printed.

    python run_example.py EXAMPLE.py RECORD.json

The example runs as `__main__` with `print` wrapped (in its own namespace only, so library code prints as usual):
every call made from a line of the example is recorded as {line: [printed text, ...]} in RECORD.json, even when the
example fails halfway.
"""

import builtins
import json
import sys


def main() -> None:
    path, record = sys.argv[1], sys.argv[2]
    printed: dict[int, list[str]] = {}

    def recording_print(*args, sep=" ", end="\n", file=None, flush=False):
        caller = sys._getframe(1)
        if caller.f_code.co_filename == path and file is None:
            printed.setdefault(caller.f_lineno, []).append(sep.join(map(str, args)))
        builtins.print(*args, sep=sep, end=end, file=file, flush=flush)

    with open(path, encoding="utf-8") as f:
        code = compile(f.read(), path, "exec")
    namespace = {"__name__": "__main__", "__file__": path, "__builtins__": builtins, "print": recording_print}
    try:
        exec(code, namespace)
    finally:
        with open(record, "w", encoding="utf-8") as f:
            json.dump(printed, f)


if __name__ == "__main__":
    main()
