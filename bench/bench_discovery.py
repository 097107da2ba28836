"""Discovery cost on a repository with 1,000 application folders, against `git ls-tree` itself.

Run: .venv/bin/python bench/bench_discovery.py [--apps 1000] [--runs 21] [--extra-files 0]
Prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gitsource import Mirror, RepositoryCache
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


def build_remote(root: Path, app_count: int, extra_files: int) -> str:
    """A bare remote whose main branch holds `app_count` folders under apps/; returns its URL.

    Each folder gets its template's files plus `extra_files` plain manifests.
    """
    files = {"README.md": "# bench\n"}
    for index in range(app_count):
        extras = {f"extra-{number}.yaml": "kind: ConfigMap\n" for number in range(extra_files)}
        for relative_path, content in {**APP_TEMPLATES[index % len(APP_TEMPLATES)], **extras}.items():
            files[f"apps/app-{index:04d}/{relative_path}"] = content.replace("app", f"app-{index:04d}", 1)
    repository = SourceRepository(root)
    repository.commit(files, "applications")
    repository.push()
    return repository.url


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--extra-files", type=int, default=0, help="plain manifests added to every folder")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-discovery-") as scratch:
        scratch_path = Path(scratch)
        url = build_remote(scratch_path, options.apps, options.extra_files)
        warm_root = scratch_path / "cache"
        mirror = RepositoryCache(warm_root).open(url)
        commit = mirror.resolve("main")
        file_count = len(git("ls-tree", "-r", "--name-only", commit, cwd=mirror.path).splitlines())

        def run_ls_tree() -> None:
            subprocess.run(["git", "ls-tree", "-r", "--name-only", commit], cwd=mirror.path, capture_output=True, check=True)

        cold_open, cold_discovery = [], []
        for run in range(options.cold_runs):
            cold_cache = RepositoryCache(scratch_path / f"cold-{run}")
            cold_open.append(timed(lambda cache=cold_cache: cache.open(url)))
            cold_mirror = cold_cache.open(url)
            cold_discovery.append(timed(lambda m=cold_mirror: m.discover_typed(m.resolve("main"), ["apps/*"])))

        # ls-tree and each warm step are timed in turn within every run, so that both see the
        # same machine load; the ratio column is the median of the per-run ratios.
        ls_tree, warm_open, warm_resolve, warm_first, warm_memoized, warm_stored = [], [], [], [], [], []
        for _ in range(options.runs):
            ls_tree.append(timed(run_ls_tree))
            warm_cache = RepositoryCache(warm_root)
            warm_open.append(timed(lambda cache=warm_cache: cache.open(url)))
            warm_mirror = warm_cache.open(url)
            warm_resolve.append(timed(lambda m=warm_mirror: m.resolve("main")))
            shutil.rmtree(warm_mirror.path / LISTINGS_DIRECTORY, ignore_errors=True)  # first run for this commit
            warm_first.append(timed(lambda m=warm_mirror: m.discover_typed(commit, ["apps/*"])))
            warm_memoized.append(timed(lambda m=warm_mirror: m.discover_typed(commit, ["apps/*"])))
            stored = Mirror(url, mirror.path)  # a later run: the commit's listing is on disk
            warm_stored.append(timed(lambda m=stored: m.discover_typed(commit, ["apps/*"])))

        # The same listing and discovery with no fetch in between: a fresh Mirror object (nothing
        # memoized) timed right after an ls-tree of the same commit.
        steady_ls_tree, steady_first = [], []
        for _ in range(options.runs):
            steady_ls_tree.append(timed(run_ls_tree))
            shutil.rmtree(mirror.path / LISTINGS_DIRECTORY, ignore_errors=True)
            fresh = Mirror(url, mirror.path)
            steady_first.append(timed(lambda m=fresh: m.discover_typed(commit, ["apps/*"])))

        apps = RepositoryCache(warm_root).open(url).discover_typed(commit, ["apps/*"])

    types = ", ".join(f"{app_type.value} {count}" for app_type, count in sorted(Counter(t for _, t in apps).items()))

    def ratio(samples: list[float], baselines: list[float] = ls_tree) -> float:
        return statistics.median(sample / baseline for sample, baseline in zip(samples, baselines, strict=True))

    cold_total = [opened + discovered for opened, discovered in zip(cold_open, cold_discovery, strict=True)]
    rows = [
        ("git ls-tree -r --name-only <commit> (subprocess)", ls_tree, 1.0),
        ("cold: open (clone into a new cache)", cold_open, median_ms(cold_open) / median_ms(ls_tree)),
        ("cold: resolve + discover_typed after the clone", cold_discovery, median_ms(cold_discovery) / median_ms(ls_tree)),
        ("cold: total", cold_total, median_ms(cold_total) / median_ms(ls_tree)),
        ("warm: open (new RepositoryCache, fetch, no clone)", warm_open, ratio(warm_open)),
        ("warm: resolve('main')", warm_resolve, ratio(warm_resolve)),
        ("warm: discover_typed, first call (ls-tree + parse)", warm_first, ratio(warm_first)),
        ("warm: discover_typed, memoized second call", warm_memoized, ratio(warm_memoized)),
        ("cached run: discover_typed, listing stored on disk", warm_stored, ratio(warm_stored)),
        ("steady: git ls-tree, back to back with the next row", steady_ls_tree, 1.0),
        ("steady: discover_typed on a fresh Mirror (ls-tree)", steady_first, ratio(steady_first, steady_ls_tree)),
    ]
    print(f"{options.apps} application folders ({types}), {file_count} files; {options.runs} runs, {options.cold_runs} cold")
    print(f"git {git('--version', cwd=Path.cwd()).split()[-1]}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    print()
    print("x ls-tree: median over runs of (step time / ls-tree time of the same run); cold rows: ratio of medians")
    print()
    print(f"{'measurement':<52} {'median ms':>10} {'min ms':>8} {'x ls-tree':>10}")
    print("-" * 83)
    for label, samples, times_ls_tree in rows:
        print(f"{label:<52} {median_ms(samples):>10.2f} {min(samples) * 1000:>8.2f} {times_ls_tree:>10.2f}")


if __name__ == "__main__":
    main()
