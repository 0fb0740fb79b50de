"""Run every benchmark in bench/ (``--quick`` by default) and print their JSON lines.

Each bench script prints its figures as one JSON object on its last stdout line; this runner
collects them into one JSON object keyed by script name (its own last line).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SKIP = {"run_all.py", "__init__.py"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", default=True, help="quick runs (default)")
    parser.add_argument("--full", action="store_true", help="full runs (slow)")
    parser.add_argument("--only", nargs="*", default=None, help="script names to run, e.g. tiles regions")
    args = parser.parse_args()
    results: dict[str, object] = {}
    failed = 0
    for script in sorted(HERE.glob("*.py")):
        if script.name in SKIP or (args.only and script.stem not in args.only):
            continue
        cmd = [sys.executable, str(script)] + ([] if args.full else ["--quick"])
        print(f"==> {' '.join(cmd)}", file=sys.stderr, flush=True)
        t0 = time.monotonic()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE.parent, check=False)
        sys.stderr.write(proc.stderr[-2000:])
        lines = [ln for ln in proc.stdout.strip().splitlines() if ln.strip()]
        try:
            results[script.stem] = json.loads(lines[-1]) if proc.returncode == 0 and lines else None
        except json.JSONDecodeError:
            results[script.stem] = None
        if results[script.stem] is None:
            failed += 1
            print(f"    {script.name} failed (exit {proc.returncode})", file=sys.stderr)
        print(f"    {script.stem}: {time.monotonic() - t0:.1f}s", file=sys.stderr)
    print(json.dumps(results))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
