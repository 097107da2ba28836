"""The real engine against the local control plane: `pulumi up` (first and second run) and one
`python -m ops drift` run, for 10 and 100 applications, and how many requests the API server
received during that drift run (its audit log), per object the stack manages.

Run: .venv/bin/python bench/bench_real_engine.py [--sizes 10 100]
Needs the toolchain (scripts/tools.sh). Each size gets its own control plane and project copy:
the Argo CD chart and one discovered Application per folder of a local git repository. Prints a
table; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.harness import (
    REPOSITORY_TOKEN,
    AppsRepository,
    Project,
    kubeconfig_stack,
    start_control_plane,
    toolchain_bin,
)

STACK = "bench"


def add_apps(work: Path, count: int) -> None:
    source = (work / "apps" / "guestbook" / "deployment.yaml").read_text()
    for index in range(count):
        folder = work / "apps" / f"app-{index:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "deployment.yaml").write_text(source.replace("guestbook", f"app-{index:03d}"))


def measure(size: int, bin_dir: Path, scratch: Path) -> dict[str, float]:
    plane = start_control_plane(scratch / "cluster", bin_dir)
    try:
        apps = AppsRepository.create(scratch / "apps")
        commit = apps.commit(f"{size} apps", lambda work: add_apps(work, size))
        project = Project.create(scratch / "project", bin_dir)
        config = kubeconfig_stack(plane, apps, commit, applications={})
        config["discovery"] = {
            "apps": {"repository": "apps", "path": "apps/app-*", "revision": commit, "destination": {"namespace": "{name}"}}
        }
        project.write_stack(STACK, config, secrets={"repositories.apps.credentials.password": REPOSITORY_TOKEN})
        figures: dict[str, float] = {}
        for label in ("first up", "second up"):
            started = time.perf_counter()
            project.up(STACK)
            figures[label] = time.perf_counter() - started
        managed = sum(1 for r in project.state(STACK)["deployment"]["resources"] if r["type"].startswith("kubernetes:"))
        before = plane.audit_events()
        started = time.perf_counter()
        drift = project.ops("drift", "--stack", STACK, "--json")
        figures["drift"] = time.perf_counter() - started
        assert json.loads(drift.stdout)["status"] == "clean", drift.output
        requests = plane.audit_events() - before
        figures.update({"objects": managed, "requests": requests, "requests/object": requests / managed})
        return figures
    finally:
        plane.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100])
    args = parser.parse_args()
    bin_dir = toolchain_bin()
    if bin_dir is None:
        sys.exit("the toolchain is not built: run scripts/tools.sh")
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.prefix) / "bin"), str(bin_dir), os.environ["PATH"]])
    print(f"{'apps':>5} {'first up':>9} {'second up':>10} {'drift':>7} {'objects':>8} {'requests':>9} {'per object':>11}")
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as scratch:
            f = measure(size, bin_dir, Path(scratch))
        print(
            f"{size:>5} {f['first up']:>8.1f}s {f['second up']:>9.1f}s {f['drift']:>6.1f}s "
            f"{f['objects']:>8} {f['requests']:>9} {f['requests/object']:>11.1f}",
            flush=True,
        )
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other work shares this machine)")


if __name__ == "__main__":
    main()
