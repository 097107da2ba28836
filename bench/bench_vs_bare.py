"""Every figure of issue 11, as a ratio against its physical limit, in one run.

    .venv/bin/python bench/bench_vs_bare.py [--sizes 100 1000] [--runs 5] [--processes 3]
        [--folders 1000 10000] [--no-render-sh]

The limits:
- a bare Pulumi program (bench/bare_program) registering exactly what the project's program
  registered, with the same inputs, options and stack outputs, and no settings model, validation
  or git. The benchmark checks that field by field before it times anything. It runs as a plain
  program does, with the garbage collector on; in process it also runs with the collector paused,
  as the project's program pauses it, which leaves only the project's own work in the ratio;
- for the output read-back, the GC and the YAML writing: their share of the run, and the C dumper;
- `git ls-tree -r` of the same commit, for discovery;
- for the GKE stack, the bare program of its resources and cloud look-ups, and (the issue's first
  limit) a fresh interpreter that only imports the SDKs and the cloud modules the stack uses.

Whole processes run with the project's bytecode compiled first, as Python caches it on every
machine that does not set PYTHONDONTWRITEBYTECODE (this one's shell does); `--no-compile` leaves
it out, and then every process compiles the project's modules again.

Project and baseline runs alternate, in process and as whole processes (interpreter start and
exit included); every ratio is printed as min / median / max of the per-run ratios, with the load
average. It prints figures and asserts only that the bare program registered the same thing.
"""

from __future__ import annotations

import argparse
import compileall
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

import yaml  # noqa: E402

import ops.program  # noqa: E402
from bench import bench_discovery  # noqa: E402
from bench.bare_plan import differences, run_bare_program, write_plan  # noqa: E402
from bench.bench_applications import build_repository, stack_config  # noqa: E402
from ops.program import ProgramRun, run_program  # noqa: E402
from ops.render import chart_document, kubernetes_objects, to_yaml  # noqa: E402
from settings.errors import PROJECT  # noqa: E402
from tests.example_repository import example_repository_env  # noqa: E402

BARE_RUN = PROJECT_DIR / "bench" / "bare_run.py"
# The stack's process as the engine runs it: the language host imports pulumi, then __main__.py pauses
# the collector before it imports the project and, at its end, freezes every object so that the exit
# does not walk them (ops.program would unfreeze them and turn the collector back on for an
# in-process caller that collects).
PROJECT_PROBE = (
    "import gc, sys; from pathlib import Path; import pulumi; gc.disable(); from ops.program import run_program; "
    "run_program(sys.argv[1], stack_file=Path(sys.argv[2]))"
)
# What a GKE stack cannot do without: the SDKs and every cloud module the stack touched.
IMPORT_PROBE = "import importlib, sys; import pulumi, pulumi_kubernetes\nfor m in sys.argv[1:]: importlib.import_module(m)"
MODULES_PROBE = (
    "import json, sys; from pathlib import Path; from ops.program import run_program; run_program(sys.argv[1]); "
    "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('pulumi_gcp', 'pulumi_aws')))))"
)


def load() -> str:
    return f"load {os.getloadavg()[0]:.2f}"


def spread(samples: list[float], unit: str = "") -> str:
    """min / median / max."""
    return " / ".join(f"{value:.2f}{unit}" for value in (min(samples), statistics.median(samples), max(samples)))


def ratios(numerators: list[float], denominators: list[float]) -> list[float]:
    return [n / d for n, d in zip(numerators, denominators, strict=True)]


def figure(label: str, value: str, goal: str) -> None:
    print(f"  {label:<58} {value:<28} goal {goal}   ({load()})")


class GcClock:
    """The time the garbage collector spends between `start` and `stop`."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._started = 0.0

    def __call__(self, phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started

    def __enter__(self) -> GcClock:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *_exc: object) -> None:
        gc.callbacks.remove(self)


class ReadBackClock:
    """The time ops.program spends reading the stack outputs back."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._read = ops.program.stack_outputs

    def __call__(self) -> dict[str, tuple[Any, bool]]:
        started = time.perf_counter()
        try:
            return self._read()
        finally:
            self.seconds += time.perf_counter() - started

    def __enter__(self) -> ReadBackClock:
        ops.program.stack_outputs = self
        return self

    def __exit__(self, *_exc: object) -> None:
        ops.program.stack_outputs = self._read


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def whole_process(*arguments: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, *arguments], cwd=PROJECT_DIR, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def checked_plan(project: ProgramRun, plan: Path) -> ProgramRun:
    """The bare run of `project`'s plan, after checking it registered the same thing."""
    write_plan(project, plan)
    bare = run_bare_program(plan, project.stack)
    found = differences(project, bare)
    if found:
        raise SystemExit("the bare program differs from the project's:\n" + "\n".join(found[:20]))
    print(f"  bare program checked field by field: {len(project.registrations)} registrations, {len(project.outputs)} outputs")
    return bare


def evaluation(scratch: Path, sizes: list[int], runs: int, processes: int) -> dict[int, ProgramRun]:
    print(f"== program evaluation, explicit applications, {runs} in-process and {processes} whole-process alternated runs")
    cache = scratch / "cache"
    os.environ["GITOPS_GIT_CACHE"] = str(cache)
    env = {**os.environ, "GITOPS_GIT_CACHE": str(cache)}
    repository = build_repository(scratch / "source", max(sizes))
    empty = scratch / "Pulumi.empty.yaml"
    empty.write_text(json.dumps({"config": {"gitops:repositories": {"apps": {"url": repository.url}}}}))
    run_program("dev", stack_file=empty)  # imports, schemas and the mirror's clone: once per process
    no_apps = statistics.median(timed(lambda: run_program("dev", stack_file=empty)) for _ in range(runs))
    print(f"  program with no applications: {no_apps * 1000:.0f} ms in process ({load()})")
    last_runs: dict[int, ProgramRun] = {}
    per_app: dict[int, float] = {}
    for size in sizes:
        stack_file = scratch / f"Pulumi.apps-{size}.yaml"
        stack_file.write_text(json.dumps(stack_config(repository.url, size, "applications")))
        plan = scratch / f"plan-{size}.json"
        print(f" {size} applications")
        project_run = run_program("dev", stack_file=stack_file)
        checked_plan(project_run, plan)
        last_runs[size] = project_run
        del project_run
        project, bare, bare_paused, gc_share, read_back_share = [], [], [], [], []
        for run in range(runs):
            order = ("project", "bare", "bare paused") if run % 2 == 0 else ("bare paused", "bare", "project")
            for which in order:
                gc.collect()  # no run pays for collecting the garbage of the one before
                if which == "bare":
                    bare.append(timed(lambda plan=plan: run_bare_program(plan, "dev")))
                    continue
                if which == "bare paused":
                    gc.disable()
                    try:
                        bare_paused.append(timed(lambda plan=plan: run_bare_program(plan, "dev")))
                    finally:
                        gc.enable()
                    continue
                with GcClock() as gc_clock, ReadBackClock() as read_back:
                    elapsed = timed(lambda stack_file=stack_file: run_program("dev", stack_file=stack_file))
                project.append(elapsed)
                gc_share.append(gc_clock.seconds / elapsed)
                read_back_share.append(read_back.seconds / elapsed)
        project_process, bare_process = [], []
        for run in range(processes):
            order = ("project", "bare") if run % 2 == 0 else ("bare", "project")
            for which in order:
                if which == "project":
                    project_process.append(whole_process("-c", PROJECT_PROBE, "dev", str(stack_file), env=env))
                else:
                    bare_process.append(whole_process(str(BARE_RUN), str(plan), PROJECT, "dev", env=env))
        per_app[size] = (statistics.median(project) - no_apps) / size
        figure("evaluation ÷ bare program, in process", spread(ratios(project, bare), "x"), "≤ 1.0x")
        figure("evaluation ÷ bare program, whole process", spread(ratios(project_process, bare_process), "x"), "≤ 1.0x")
        figure("same, bare program's collector paused too, in process", spread(ratios(project, bare_paused), "x"), "")
        figure("project run, in process (s)", spread(project), "")
        figure("bare run, in process (s)", spread(bare), "")
        figure(
            "project / bare, whole process (s)",
            f"{statistics.median(project_process):.2f} / {statistics.median(bare_process):.2f}",
            "",
        )
        figure("garbage collector's share of the project run", spread([100 * s for s in gc_share], "%"), "")
        figure("reading back the outputs, share of the project run", spread([100 * s for s in read_back_share], "%"), "< 5%")
        figure("per-app time, no-application run subtracted", f"{per_app[size] * 1000:.2f} ms", "")
    from_hundred = [value for size, value in per_app.items() if size >= 100]
    if len(from_hundred) > 1:
        figure("per-app time, largest ÷ smallest from 100 apps", f"{max(from_hundred) / min(from_hundred):.2f}x", "≤ 1.15x")
    return last_runs


def yaml_writing(run: ProgramRun, runs: int) -> None:
    documents = [obj for _, obj in kubernetes_objects(run)]
    documents += [chart_document(r) for r in run.registrations if r.type.startswith("kubernetes:helm.sh/")]
    print(f"== writing the render's YAML: {len(documents)} documents, {runs} alternated runs")

    def dump(document: Any, dumper: type) -> str:
        return yaml.dump(document, Dumper=dumper, sort_keys=True, default_flow_style=False, width=120)

    ours, c_dumper = [], []
    for _ in range(runs):
        ours.append(timed(lambda: [to_yaml(d) for d in documents]))
        c_dumper.append(timed(lambda: [dump(d, yaml.CSafeDumper) for d in documents]))
    same = sum(to_yaml(d) == dump(d, yaml.SafeDumper) for d in documents)
    figure("ops.render.to_yaml (s)", spread(ours), "")
    figure("to_yaml ÷ yaml.CSafeDumper alone", spread(ratios(ours, c_dumper), "x"), "≈ 1x, byte-identical")
    print(f"  documents to_yaml writes byte for byte as yaml.safe_dump does: {same} of {len(documents)}")


def discovery(scratch: Path, folder_counts: list[int], runs: int) -> None:
    print(f"== discovery, flat layout (apps/*), {runs} alternated runs")
    for folders in folder_counts:
        f = bench_discovery.measure(scratch, "flat", folders, runs)
        figure(f"first listing, cold ÷ git ls-tree, {folders} folders", spread(f.cold_first_over_ls_tree(), "x"), "≤ 1.5x")
        figure(f"first listing, next commit ÷ git ls-tree, {folders} folders", spread(f.first_over_ls_tree(), "x"), "≤ 1.5x")
        figure(f"cached re-run ÷ cold first, {folders} folders", spread(f.cached_over_cold_first()), "≤ 0.2")
        figure(f"cached re-run ÷ next commit's first, {folders} folders", spread(f.cached_over_first()), "(information)")


def start_up(scratch: Path, processes: int) -> None:
    print(f"== stack start-up, whole process, {processes} alternated runs")
    env = {**os.environ, **example_repository_env(PROJECT_DIR)}
    os.environ.update(example_repository_env(PROJECT_DIR))
    local_plan, gke_plan = scratch / "plan-local.json", scratch / "plan-prd.json"
    checked_plan(run_program("local"), local_plan)
    checked_plan(run_program("prd"), gke_plan)
    local = PROJECT_DIR / "stacks" / "Pulumi.local.yaml"
    modules = json.loads(
        subprocess.run(
            [sys.executable, "-c", MODULES_PROBE, "prd"], cwd=PROJECT_DIR, env=env, check=True, capture_output=True, text=True
        ).stdout
    )
    prd = PROJECT_DIR / "stacks" / "Pulumi.prd.yaml"
    kubeconfig, bare, gke, bare_gke, imports = [], [], [], [], []
    for run in range(processes):
        steps = [
            (kubeconfig, ("-c", PROJECT_PROBE, "local", str(local))),
            (bare, (str(BARE_RUN), str(local_plan), PROJECT, "local")),
            (gke, ("-c", PROJECT_PROBE, "prd", str(prd))),
            (bare_gke, (str(BARE_RUN), str(gke_plan), PROJECT, "prd")),
            (imports, ("-c", IMPORT_PROBE, *modules)),
        ]
        for samples, arguments in steps if run % 2 == 0 else reversed(steps):
            samples.append(whole_process(*arguments, env=env))
    figure("kubeconfig stack (local) ÷ bare program, same resources", spread(ratios(kubeconfig, bare), "x"), "≤ 1.2x")
    figure("kubeconfig stack / bare program (s)", f"{statistics.median(kubeconfig):.2f} / {statistics.median(bare):.2f}", "")
    figure("GKE stack (prd) ÷ bare program, same resources and look-ups", spread(ratios(gke, bare_gke), "x"), "≤ 1.2x")
    figure("GKE stack / bare program (s)", f"{statistics.median(gke):.2f} / {statistics.median(bare_gke):.2f}", "")
    figure(f"GKE stack (prd) ÷ importing the {len(modules)} cloud modules it uses", spread(ratios(gke, imports), "x"), "≤ 1.2x")
    figure("imports alone (s)", f"{statistics.median(imports):.2f}", "")


def compile_bytecode() -> None:
    packages = [PROJECT_DIR / name for name in ("settings", "components", "gitsource", "ops", "bench")]
    if not all([compileall.compile_dir(package, quiet=1) for package in packages]):
        raise SystemExit("the project's modules do not compile")
    print("project bytecode compiled into __pycache__, as any run that may write it leaves it")


def render_script(scratch: Path, processes: int) -> None:
    print(f"== ./scripts/render.sh, four stacks, warm, {processes} runs")
    env = dict(os.environ)
    env.pop("GITOPS_GIT_CACHE", None)
    out = scratch / "rendered"
    subprocess.run(["./scripts/render.sh", "--out", str(out)], cwd=PROJECT_DIR, env=env, check=True, capture_output=True)
    script = []
    for _ in range(processes):
        started = time.perf_counter()
        subprocess.run(["./scripts/render.sh", "--out", str(out)], cwd=PROJECT_DIR, env=env, check=True, capture_output=True)
        script.append(time.perf_counter() - started)
    shutil.rmtree(out, ignore_errors=True)
    figure("./scripts/render.sh (s)", spread(script), "≤ 6 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000], help="application counts")
    parser.add_argument("--runs", type=int, default=5, help="in-process runs of each side")
    parser.add_argument("--processes", type=int, default=3, help="whole-process runs of each side")
    parser.add_argument("--folders", type=int, nargs="+", default=[1000, 10000], help="discovery folder counts")
    parser.add_argument("--no-render-sh", action="store_true", help="skip timing ./scripts/render.sh")
    parser.add_argument("--no-compile", action="store_true", help="time whole processes without cached bytecode")
    options = parser.parse_args()

    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {load()}")
    if not options.no_compile:
        compile_bytecode()
    with bench_discovery.scratch_directory("bench-vs-bare-") as directory:
        scratch = Path(directory)
        print(f"scratch directory: {scratch}")
        runs = evaluation(scratch, sorted(options.sizes), options.runs, options.processes)
        yaml_writing(runs[min(runs, key=lambda size: abs(size - 1000))], options.runs)
        discovery(scratch, options.folders, options.runs)
        start_up(scratch, options.processes)
        if not options.no_render_sh:
            render_script(scratch, options.processes)
    print(f"done, {load()}")


if __name__ == "__main__":
    main()
