"""`python -m bench [NAME ...]`: run every bench module (or the named ones), in name order."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path

# `load` starts its own production stack and is its own target (`make load`).
SKIP = {"common", "__main__", "load"}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    here = Path(__file__).resolve().parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name not in SKIP)
    if argv:
        names = [n for n in names if n in argv]
    status = 0
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        run = getattr(module, "main", None)
        if run is None:
            continue
        print(f"== bench.{name}", flush=True)
        start = time.perf_counter()
        code = run([]) or 0
        print(f"== bench.{name}: {time.perf_counter() - start:.1f} s (exit {code})", flush=True)
        status = status or code
    return status


if __name__ == "__main__":
    sys.exit(main())
