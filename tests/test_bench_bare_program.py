"""The benchmark's bare program (bench/bare_program) registers what the project registers, and the
check that says so finds a difference when there is one."""

import json

import pytest

from bench.bare_plan import differences, run_bare_program, write_plan
from ops.program import run_program


@pytest.mark.parametrize("stack", ["local", "prd"])
def test_the_bare_program_registers_what_the_project_does(stack, tmp_path):
    project = run_program(stack)
    bare = run_bare_program(write_plan(project, tmp_path / "plan.json"), stack)
    assert differences(project, bare) == []


def test_a_missing_cloud_look_up_or_a_changed_input_is_a_difference(tmp_path):
    project = run_program("prd")
    assert project.invokes
    plan_file = write_plan(project, tmp_path / "plan.json")
    plan = json.loads(plan_file.read_text())
    plan["invokes"] = []
    address = next(r for r in plan["resources"] if r["type"] == "gcp:compute/globalAddress:GlobalAddress")
    address["inputs"]["description"] = "another address"
    plan_file.write_text(json.dumps(plan))

    found = differences(project, run_bare_program(plan_file, "prd"))

    assert "the cloud look-ups (invokes) differ" in found
    assert f"{address['urn']}: inputs differs" in found
