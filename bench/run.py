"""Run every benchmark in bench/ and print its figures (see QUALITY.md)."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    status = 0
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"== {script.stem}", flush=True)
        status |= subprocess.call([sys.executable, str(script)], cwd=HERE.parent)
    sys.exit(status)
