"""Program evaluation under mocks for 10, 100 and 1,000 applications pinned from a real git repository.

Run: .venv/bin/python bench/bench_applications.py [--sizes 10 100 1000] [--runs 3]
Each size is run with explicit applications (`gitops:applications`) and with one discovery entry
(`gitops:discovery`); the mirror is cloned once beforehand, as a warm cache in CI would be.
Prints a table of the median run; it asserts nothing.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ops.program import run_program
from tests.gitrepos import SourceRepository

KINDS = [
    {"kustomization.yaml": "resources: [deployment.yaml]\n", "deployment.yaml": "kind: Deployment\n"},
    {"Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\n", "templates/deployment.yaml": "kind: Deployment\n"},
    {"deployment.yaml": "kind: Deployment\n", "service.yaml": "kind: Service\n"},
]


def build_repository(root: Path, count: int, discovered_sizes: tuple[int, ...] = ()) -> SourceRepository:
    """`count` folders apps/app-NNNN for explicit applications and, for each discovered size N, N
    folders under discovered-N/ for a discovery entry to find."""
    repository = SourceRepository(root)
    folders = [f"apps/app-{index:04d}" for index in range(count)]
    folders += [f"{discovered_folder(size)}/app-{index:04d}" for size in discovered_sizes for index in range(size)]
    files = {
        f"{folder}/{name}": content for index, folder in enumerate(folders) for name, content in KINDS[index % len(KINDS)].items()
    }
    repository.commit(files, "applications")
    repository.push()
    return repository


def discovered_folder(size: int) -> str:
    return f"discovered-{size}"


def stack_config(url: str, size: int, mode: str) -> dict:
    config = {"gitops:repositories": {"apps": {"url": url}}}
    sync = {"automated": {"prune": True, "selfHeal": True}, "syncOptions": ["CreateNamespace=true"]}
    if mode == "applications":
        config["gitops:applications"] = {
            f"app-{index:04d}": {
                "repository": "apps",
                "path": f"apps/app-{index:04d}",
                "revision": "main",
                "destination": {"namespace": f"app-{index:04d}"},
                "syncPolicy": sync,
            }
            for index in range(size)
        }
    else:
        pattern = f"{discovered_folder(size)}/*"
        config["gitops:discovery"] = {"all": {"repository": "apps", "path": pattern, "revision": "main", "syncPolicy": sync}}
    return {"config": config}


def timed_run(stack_file: Path) -> float:
    start = time.perf_counter()
    run = run_program("dev", stack_file=stack_file)
    elapsed = time.perf_counter() - start
    assert run.registrations
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", type=int, help="profile one run of this size and print the top functions")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        os.environ["GITOPS_GIT_CACHE"] = str(root / "cache")
        repository = build_repository(root / "source", max(arguments.sizes), tuple(arguments.sizes))
        baseline_file = root / "Pulumi.dev.yaml"
        baseline_file.write_text(json.dumps({"config": {"gitops:repositories": {"apps": {"url": repository.url}}}}))
        timed_run(baseline_file)  # warm: imports and schema loading happen once per process
        baseline = statistics.median(timed_run(baseline_file) for _ in range(arguments.runs))

        rows = []
        for mode in ("applications", "discovery"):
            for size in arguments.sizes:
                stack_file = root / "Pulumi.dev.yaml"
                stack_file.write_text(json.dumps(stack_config(repository.url, size, mode)))
                timed_run(stack_file)  # warm: clone the mirror once
                total = statistics.median(timed_run(stack_file) for _ in range(arguments.runs))
                rows.append((mode, size, total, (total - baseline) / size))
                if arguments.profile == size and mode == "applications":
                    profiler = cProfile.Profile()
                    profiler.runcall(run_program, "dev", stack_file=stack_file)
                    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)

    print(f"program without applications: {baseline * 1000:.0f} ms (subtracted below)")
    print(f"{'mode':<13} {'apps':>6} {'total s':>9} {'ms / app':>9}")
    for mode, size, total, per_app in rows:
        print(f"{mode:<13} {size:>6} {total:>9.2f} {per_app * 1000:>9.2f}")


if __name__ == "__main__":
    main()
