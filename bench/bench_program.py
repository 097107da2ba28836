"""Figures for the program itself: per stack, the import time of what it loads (and of the cloud
SDK modules alone), the time to run it under mocks, the render + validation time, and the object
counts. Prints a table; not a test.

    .venv/bin/python bench/bench_program.py
"""

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from tests.example_repository import example_repository_env  # noqa: E402

RUNS = 3

# Runs in a fresh interpreter so each stack pays its own imports, as `pulumi up` does.
PROBE = """
import json, sys, tempfile, time
from pathlib import Path
start = time.perf_counter()
import pulumi, pulumi_kubernetes
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
cloud = sorted(m for m in sys.modules if m.split(".")[0] in ("pulumi_aws", "pulumi_gcp"))
print(json.dumps({"base_import": base_imported - start, "program": ran - base_imported, "render_validate": done - ran,
                  "objects": count, "charts": len(rendered.charts), "resources": len(run.registrations),
                  "problems": len(problems), "cloud_sdk": cloud}))
"""


# Imports, in a fresh interpreter that already has the base modules, exactly the cloud SDK
# modules the program loaded for a stack.
CLOUD_IMPORT_PROBE = """
import importlib, sys, time
import pulumi, pulumi_kubernetes
start = time.perf_counter()
for module in sys.argv[1:]:
    importlib.import_module(module)
print(time.perf_counter() - start)
"""


def python(*args: str) -> str:
    env = {**os.environ, **example_repository_env(PROJECT_DIR)}
    return subprocess.run([sys.executable, *args], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, check=True).stdout


def measure(stack: str) -> dict:
    samples = [json.loads(python("-c", PROBE, stack)) for _ in range(RUNS)]
    result = dict(samples[0])
    for key in ("base_import", "program", "render_validate"):
        result[key] = statistics.median(s[key] for s in samples)
    cloud_modules = result.pop("cloud_sdk")
    result["cloud"] = sorted({m.split(".")[0] for m in cloud_modules})
    result["cloud_import"] = statistics.median(float(python("-c", CLOUD_IMPORT_PROBE, *cloud_modules)) for _ in range(RUNS))
    return result


def main() -> None:
    stacks = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in (PROJECT_DIR / "stacks").glob("Pulumi.*.yaml"))
    print(f"median of {RUNS} fresh interpreters per stack (seconds)")
    header = ("stack", "cloud SDK", "base import", "cloud import", "program", "render+val", "objects", "charts", "resources")
    print("{:6} {:10} {:>11} {:>12} {:>8} {:>10} {:>7} {:>6} {:>9}".format(*header))
    for stack in stacks:
        r = measure(stack)
        print(
            f"{stack:6} {','.join(r['cloud']) or '-':10} {r['base_import']:11.2f} {r['cloud_import']:12.2f} {r['program']:8.2f} "
            f"{r['render_validate']:10.2f} {r['objects']:7} {r['charts']:6} {r['resources']:9}"
        )
    print("base import: pulumi, pulumi_kubernetes, the project; cloud import: the cloud SDK modules")
    print("the stack's program loaded, alone; program: settings, git resolution, provider and components under mocks")


if __name__ == "__main__":
    main()
