"""Run every benchmark in turn: `python -m benchmarks` (or `make bench`)."""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def main() -> int:
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    failed = []
    for name in names:
        print(f"\n=== {name} ===", flush=True)
        t0 = time.perf_counter()
        module = importlib.import_module(f"benchmarks.{name}")
        try:
            module.main([]) if inspect.signature(module.main).parameters else module.main()
        except SystemExit as exc:
            if exc.code not in (0, None):
                failed.append(name)
        except Exception as exc:  # report and go on with the others
            print(f"{name} failed: {exc!r}")
            failed.append(name)
        print(f"({name} took {time.perf_counter() - t0:.1f}s)")
    if failed:
        print("failed:", ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
