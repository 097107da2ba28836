"""First-run and cached-run cost on a repository with a large unused branch, before and after
blobless mirrors.

The repository's `main` holds a few application folders; its `gh-pages` branch holds packaged
charts (incompressible .tgz files, as a Helm repository published from GitHub Pages has), which
no application reads. "before" runs the git commands the mirror cache ran until issue 8 (a full
`git clone --bare`, then `git fetch --prune origin`); "after" runs RepositoryCache as it is now
(a blobless fetch of commits and trees). Both then resolve `main` and discover `apps/*` with the
same Mirror code, and the answers are compared.

Run: .venv/bin/python bench/bench_first_run.py [--branch-mb 32] [--runs 3]
Prints figures; it asserts nothing but that both ways give the same answers.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gitsource import Mirror, RepositoryCache
from tests.gitrepos import SourceRepository, git

CHART = "apiVersion: v2\nname: app\nversion: 0.1.0\n"
PREVIOUS_REFSPECS = ("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")


def build_remote(root: Path, branch_megabytes: int, releases: int) -> SourceRepository:
    repository = SourceRepository(root / "source")
    apps = {f"apps/app-{index:02d}/Chart.yaml": CHART for index in range(20)}
    apps.update({f"apps/app-{index:02d}/values.yaml": f"replicas: {index}\n" for index in range(20)})
    repository.commit(apps, "applications")
    repository.switch_orphan("gh-pages")
    per_release = branch_megabytes * 1024 * 1024 // releases
    for release in range(releases):
        package = repository.work / "charts" / f"app-1.{release}.0.tgz"
        package.parent.mkdir(parents=True, exist_ok=True)
        package.write_bytes(os.urandom(per_release))
        repository.commit({"index.yaml": f"generated: {release}\n"}, f"release 1.{release}.0")
    repository.switch("main")
    repository.push()
    return repository


def previous_mirror(url: str, root: Path) -> Path:
    """The mirror as the cache made and refreshed it before issue 8: full clone, then fetch."""
    path = root / "mirror.git"
    if not path.exists():
        git("clone", "--bare", "--quiet", "--", url, str(path), cwd=Path.cwd())
        for index, refspec in enumerate(PREVIOUS_REFSPECS):
            mode = "--replace-all" if index == 0 else "--add"
            git("config", mode, "remote.origin.fetch", refspec, cwd=path, environment={"GIT_DIR": str(path)})
    else:
        git("fetch", "--prune", "--quiet", "origin", cwd=path, environment={"GIT_DIR": str(path)})
    return path


def answers(mirror: Mirror) -> tuple[str, list]:
    commit = mirror.resolve("main")
    return commit, mirror.discover_typed(commit, ["apps/*"])


def timed(action: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1024 / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--branch-mb", type=int, default=32, help="size of the packaged charts on gh-pages")
    parser.add_argument("--releases", type=int, default=16, help="commits on gh-pages, one package each")
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-first-run-") as scratch:
        root = Path(scratch)
        remote = build_remote(root, options.branch_mb, options.releases)
        results: dict[str, dict[str, list[float]]] = {"before": {"first": [], "cached": []}, "after": {"first": [], "cached": []}}
        sizes: dict[str, float] = {}
        seen = {}
        for run in range(options.runs):
            before_root = root / f"before-{run}"

            def before(before_root: Path = before_root) -> object:
                path = previous_mirror(remote.url, before_root)
                return answers(Mirror(remote.url, path))

            after_root = root / f"after-{run}"

            def after(after_root: Path = after_root) -> object:
                return answers(RepositoryCache(after_root).open(remote.url))

            for label, action, directory in (("before", before, before_root), ("after", after, after_root)):
                first, first_answers = timed(action)
                cached, cached_answers = timed(action)
                results[label]["first"].append(first)
                results[label]["cached"].append(cached)
                seen[label] = first_answers
                assert first_answers == cached_answers
                sizes[label] = size_mb(directory)
            shutil.rmtree(before_root)
            shutil.rmtree(after_root)
        same = seen["before"] == seen["after"]

    version = git("--version", cwd=Path.cwd()).split()[-1]
    print(f"remote: main with 20 Helm folders; gh-pages with {options.releases} packaged charts, {options.branch_mb} MB")
    print(
        f"git {version}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; file:// transport; median of {options.runs} runs"
    )
    print()
    print(f"{'mirror':<40} {'first run s':>12} {'cached run s':>13} {'mirror MB':>10}")
    print("-" * 78)
    for label, description in (
        ("before", "before: full clone, then fetch"),
        ("after", "after: blobless fetch (RepositoryCache)"),
    ):
        first = statistics.median(results[label]["first"])
        cached = statistics.median(results[label]["cached"])
        print(f"{description:<40} {first:>12.3f} {cached:>13.3f} {sizes[label]:>10.2f}")
    print()
    print(f"same commit and discovered folders both ways: {same}")


if __name__ == "__main__":
    main()
