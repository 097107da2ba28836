"""Figures for the program itself: per stack, the import time of what it loads, the time to run
it under mocks, the render + validation time, and the object counts. Prints a table; not a test.

    .venv/bin/python bench/bench_program.py
"""

import json
import statistics
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
RUNS = 3

# Runs in a fresh interpreter so each stack pays its own imports, as `pulumi up` does.
PROBE = """
import json, sys, tempfile, time
from pathlib import Path
start = time.perf_counter()
import pulumi, pulumi_kubernetes, pulumi_random
from ops.program import run_program
from ops.render import render
from ops.validate import validate_directory, crd_schemas
crd_schemas()
base_imported = time.perf_counter()
run = run_program(sys.argv[1])
ran = time.perf_counter()
with tempfile.TemporaryDirectory() as out:
    rendered = render(run, Path(out))
    count, problems = validate_directory(rendered.directory)
done = time.perf_counter()
cloud = [m for m in ("pulumi_aws", "pulumi_gcp") if m in sys.modules]
print(json.dumps({"base_import": base_imported - start, "program": ran - base_imported, "render_validate": done - ran,
                  "objects": count, "charts": len(rendered.charts), "resources": len(run.registrations),
                  "problems": len(problems), "cloud_sdk": cloud}))
"""


def measure(stack: str) -> dict:
    samples = [
        json.loads(
            subprocess.run(
                [sys.executable, "-c", PROBE, stack], cwd=PROJECT_DIR, capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(RUNS)
    ]
    result = dict(samples[0])
    for key in ("base_import", "program", "render_validate"):
        result[key] = statistics.median(s[key] for s in samples)
    return result


def main() -> None:
    stacks = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in (PROJECT_DIR / "stacks").glob("Pulumi.*.yaml"))
    print(f"median of {RUNS} fresh interpreters per stack (seconds)")
    header = ("stack", "cloud SDK", "base import", "program", "render+val", "objects", "charts", "resources")
    print("{:6} {:10} {:>11} {:>8} {:>10} {:>7} {:>6} {:>9}".format(*header))
    for stack in stacks:
        r = measure(stack)
        print(
            f"{stack:6} {','.join(r['cloud_sdk']) or '-':10} {r['base_import']:11.2f} {r['program']:8.2f} "
            f"{r['render_validate']:10.2f} {r['objects']:7} {r['charts']:6} {r['resources']:9}"
        )
    print("program = settings + provider (+ cloud SDK import for eks/gke) + components under mocks")


if __name__ == "__main__":
    main()
