"""Discovery cost against `git ls-tree` itself, for flat and deep layouts of 1,000 and 10,000 folders.

Run: .venv/bin/python bench/bench_discovery.py [--folders 1000 10000] [--layouts flat deep] [--runs 11]

Per layout and folder count it prints, as min / median / max over runs in which every step is
timed in turn (so that all see the same machine load):
- cold first ÷ ls-tree: discover_typed on a commit no run has listed yet, with no earlier commit's
  discovery stored (a new cache), over `git ls-tree -r` of that commit;
- first ÷ ls-tree: the same on the next commit of the branch, once the one before it was
  discovered (what a run pays after a push), over `git ls-tree -r` of that commit;
- cached ÷ first and ÷ cold first: that discovery again in a later run, whose answer is stored in
  the mirror;
- the fetch (RepositoryCache.open on a warm cache) and the resolve of `main` every real run pays.
It asserts nothing but that every way gives the same folders.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gitsource import Mirror, RepositoryCache
from gitsource.cache import default_cache_root
from gitsource.mirror import LISTINGS_DIRECTORY
from tests.gitrepos import SourceRepository, git

# Cycled over the folders so every app type appears about equally often.
APP_TEMPLATES: list[dict[str, str]] = [
    {
        "Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\n",
        "values.yaml": "replicas: 1\n",
        "templates/deployment.yaml": "kind: Deployment\n",
    },
    {
        "kustomization.yaml": "resources: [deployment.yaml]\n",
        "deployment.yaml": "kind: Deployment\n",
        "service.yaml": "kind: Service\n",
    },
    {"deployment.yaml": "kind: Deployment\n", "service.yaml": "kind: Service\n", "configmap.yaml": "kind: ConfigMap\n"},
    {"main.jsonnet": "{}\n", "lib/util.libsonnet": "{}\n", "params.libsonnet": "{}\n"},
]
TEAMS = 20
ENVIRONMENTS = ("dev", "stg", "prd")


def folder_of(layout: str, index: int) -> str:
    """flat: apps/app-NNNNN; deep: envs/<env>/teams/team-NN/app-NNNNN (pattern envs/*/teams/*/*)."""
    if layout == "flat":
        return f"apps/app-{index:05d}"
    return f"envs/{ENVIRONMENTS[index % len(ENVIRONMENTS)]}/teams/team-{index % TEAMS:02d}/app-{index:05d}"


PATTERNS = {"flat": "apps/*", "deep": "envs/*/teams/*/*"}


def build_remote(root: Path, layout: str, folder_count: int, commits: int = 1) -> tuple[str, list[str]]:
    """A bare remote whose main branch holds `folder_count` application folders in each of its
    last `commits` commits, each of which changes README.md and one application's file, as a push
    does; returns its URL and those commits."""
    files = {"README.md": "# bench\n"}
    for index in range(folder_count):
        for relative_path, content in APP_TEMPLATES[index % len(APP_TEMPLATES)].items():
            files[f"{folder_of(layout, index)}/{relative_path}"] = content
    repository = SourceRepository(root)
    made = [repository.commit(files, "applications")]
    made += [
        repository.commit(
            {"README.md": f"# bench {number}\n", f"{folder_of(layout, 4 * number + 1)}/deployment.yaml": f"replicas: {number}\n"}
        )
        for number in range(1, commits)
    ]
    repository.push()
    return repository.url, made


def scratch_directory(prefix: str) -> tempfile.TemporaryDirectory:
    """A directory for the runs' repositories and caches beside the real cache (gitsource's
    default root), where a run writes its stored answers: /tmp can be another kind of place (on
    this machine, creating a file there costs twenty times more)."""
    parent = default_cache_root().parent
    parent.mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryDirectory(prefix=prefix, dir=parent)


def timed(action: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


@dataclass
class DiscoveryFigures:
    layout: str
    folders: int
    files: int
    cold_ls_tree: list[float]
    cold_first: list[float]
    ls_tree: list[float]
    first: list[float]
    cached: list[float]
    fetch: list[float]
    resolve: list[float]

    def cold_first_over_ls_tree(self) -> list[float]:
        return [first / ls_tree for first, ls_tree in zip(self.cold_first, self.cold_ls_tree, strict=True)]

    def first_over_ls_tree(self) -> list[float]:
        return [first / ls_tree for first, ls_tree in zip(self.first, self.ls_tree, strict=True)]

    def cached_over_first(self) -> list[float]:
        return [cached / first for cached, first in zip(self.cached, self.first, strict=True)]

    def cached_over_cold_first(self) -> list[float]:
        return [cached / first for cached, first in zip(self.cached, self.cold_first, strict=True)]


def measure(scratch: Path, layout: str, folder_count: int, runs: int) -> DiscoveryFigures:
    # Two commits of their own for every run, so that each first discovery is of a commit no run
    # has listed: a cold one, then the next commit after it.
    url, commits = build_remote(scratch / f"source-{layout}-{folder_count}", layout, folder_count, commits=2 * runs + 1)
    cache_root = scratch / f"cache-{layout}-{folder_count}"
    mirror = RepositoryCache(cache_root).open(url)
    # The set-up wrote thousands of files, whose writeback would otherwise slow the first writes
    # measured below (a run's fetch leaves little of that behind).
    os.sync()
    pattern = [PATTERNS[layout]]
    file_count = len(git("ls-tree", "-r", "--name-only", commits[0], cwd=mirror.path).splitlines())
    expected = Mirror(url, mirror.path).discover_typed(commits[0], pattern)
    assert len(expected) == folder_count, (len(expected), folder_count)

    def ls_tree(commit: str) -> None:
        subprocess.run(["git", "ls-tree", "-r", "--name-only", commit], cwd=mirror.path, capture_output=True, check=True)

    def discover(commit: str) -> list:
        return Mirror(url, mirror.path).discover_typed(commit, pattern)

    def forget_earlier_discoveries() -> None:
        for pointer in (mirror.path / LISTINGS_DIRECTORY).glob("*.latest"):
            pointer.unlink()

    figures = DiscoveryFigures(layout, folder_count, file_count, [], [], [], [], [], [], [])
    # The program discovers with its collector paused (__main__.py): so do the timed steps, which
    # a collection of this process's own objects would otherwise interrupt now and then.
    collecting = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        for cold_commit, commit in zip(commits[1::2], commits[2::2], strict=True):
            figures.cold_ls_tree.append(timed(lambda commit=cold_commit: ls_tree(commit))[0])
            forget_earlier_discoveries()
            cold_first, found_cold = timed(lambda commit=cold_commit: discover(commit))
            figures.cold_first.append(cold_first)
            figures.ls_tree.append(timed(lambda commit=commit: ls_tree(commit))[0])
            first, found = timed(lambda commit=commit: discover(commit))
            figures.first.append(first)
            cached, found_again = timed(lambda commit=commit: discover(commit))
            figures.cached.append(cached)
            assert found_cold == found == found_again == expected
            warm_cache = RepositoryCache(cache_root)
            opened, warm_mirror = timed(lambda cache=warm_cache: cache.open(url))
            figures.fetch.append(opened)
            figures.resolve.append(timed(lambda m=warm_mirror: m.resolve("main"))[0])
    finally:
        if collecting:
            gc.enable()
    return figures


def spread(samples: list[float], scale: float = 1.0) -> str:
    """min / median / max."""
    return " / ".join(f"{value * scale:.2f}" for value in (min(samples), statistics.median(samples), max(samples)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folders", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--layouts", nargs="+", choices=sorted(PATTERNS), default=["flat", "deep"])
    parser.add_argument("--runs", type=int, default=11)
    options = parser.parse_args()

    print(f"git {git('--version', cwd=Path.cwd()).split()[-1]}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    print(f"load average at start: {os.getloadavg()[0]:.2f}; min / median / max of {options.runs} alternated runs")
    print()
    header = (
        "layout",
        "folders",
        "files",
        "cold first ÷ ls-tree",
        "first ÷ ls-tree",
        "cached ÷ first",
        "cached ÷ cold first",
        "fetch ms",
        "resolve ms",
        "ls-tree ms",
    )
    print("{:<6} {:>7} {:>6} {:>20} {:>20} {:>18} {:>19} {:>22} {:>16} {:>20}".format(*header))
    with scratch_directory("bench-discovery-") as scratch:
        print(f"in {scratch}")
        for layout in options.layouts:
            for folder_count in options.folders:
                f = measure(Path(scratch), layout, folder_count, options.runs)
                print(
                    f"{layout:<6} {folder_count:>7} {f.files:>6} {spread(f.cold_first_over_ls_tree()):>20} "
                    f"{spread(f.first_over_ls_tree()):>20} "
                    f"{spread(f.cached_over_first()):>18} {spread(f.cached_over_cold_first()):>19} "
                    f"{spread(f.fetch, 1000):>22} {spread(f.resolve, 1000):>16} "
                    f"{spread(f.ls_tree, 1000):>20}"
                )
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
