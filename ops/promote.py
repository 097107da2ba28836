"""`python -m ops promote`: carry the commits a stack runs into the next stack's stack file, on a
new branch.

`promotion_plan` decides what changes and refuses what must not happen, `commits` checks the
commits exist, `stack_file_edit` rewrites only those revision values and `promotion_branch`
commits the file on a new branch. Only this module touches Pulumi.
"""

from __future__ import annotations

from collections.abc import Sequence

import git
from rich.console import Console
from rich.text import Text

from ops import automation, report
from ops.argocd_status import application_statuses
from ops.commits import commit_checker, verify_commits
from ops.errors import OpsError, print_problem
from ops.project import load_settings, project_root, stack_file
from ops.promotion_branch import apply_plan, ensure_clean, open_repository
from ops.promotion_plan import check_stage, plan_promotion, statuses_by_app


def run_promote(
    source: str,
    target: str,
    apps: Sequence[str],
    force: bool,
    as_json: bool,
    out: Console,
    err: Console,
) -> int:
    """`python -m ops promote`: 0 promoted (or nothing to promote), 1 refused or failed."""
    try:
        root = project_root()
        target_file = stack_file(root, target)
        stack_file(root, source)
        repo = open_repository(root)
        ensure_clean(repo)
        target_settings = load_settings(target_file)
        check_stage(source, target, target_settings)
        target_yaml = target_file.read_text(encoding="utf-8")

        stack = automation.open_stack(source, root)
        err.print(Text(f"refreshing stack {source}", style="dim"), soft_wrap=True)
        with automation.automation_errors(source):
            stack.refresh(color="never")
            outputs = stack.outputs()
            deployment = stack.export_stack()
        statuses = statuses_by_app(application_statuses(deployment))
        plan = plan_promotion(source, target, outputs, statuses, target_settings, target_yaml, apps, force)
        if plan.changes:
            verify_commits(plan, commit_checker(target_settings))
    except OpsError as error:
        print_problem(err, str(error))
        if as_json:
            report.write_json(out, {"source": source, "target": target, "status": "refused", "error": str(error)})
        return 1

    if not plan.changes:
        if as_json:
            report.write_json(out, {**plan.to_dict(), "status": "unchanged", "branch": None, "commit": None})
        else:
            report.print_plan(plan, out)
            out.print(f"nothing to promote: {target} already runs the commits of {source}")
        return 0

    try:
        promotion = apply_plan(plan, repo, target_file, target_yaml)
    except (OpsError, git.GitCommandError, OSError) as error:
        err.print(Text(f"error: promotion failed, nothing changed: {error}", style="red"), soft_wrap=True)
        return 1

    if as_json:
        document = {
            **plan.to_dict(),
            "status": "promoted",
            "branch": promotion.branch,
            "commit": promotion.commit,
            "diff": promotion.diff,
        }
        report.write_json(out, document)
    else:
        report.print_plan(plan, out)
        report.print_diff(promotion.diff, out)
        out.print(f"committed {promotion.commit[:12]} on branch {promotion.branch}")
    return 0
