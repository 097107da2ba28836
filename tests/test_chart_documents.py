"""ops.chart_render reads helm's output document by document; it must read what PyYAML reads."""

import pytest
import yaml

from ops.chart_render import parsed_documents

STREAMS = [
    "a: 1\n---\nb: 2\n",
    "---\n# Source: argo-cd/templates/a.yaml\na: 1\n--- # a comment\nb: [1]\n---   \n---\n",
    "--- {a: 1}\n--- |\n  text\n  ---\n---\nk: |\n  ---\n  x\n",
    'x: "a\n  ---b"\n---\n- 1\n',
    "---\n---\n",
    "a: 1\n...\n---\nb: 2\n",
    "----: 1\n---x: 2\n",
]


@pytest.mark.parametrize("stream", STREAMS)
def test_the_documents_are_those_pyyaml_reads(stream):
    assert parsed_documents(stream) == [document for document in yaml.safe_load_all(stream) if document]


def test_a_document_two_streams_share_is_read_once():
    crd = "kind: CustomResourceDefinition\nspec: {names: {kind: Application}}\n"
    first, second = parsed_documents(f"---\n{crd}---\nkind: A\n"), parsed_documents(f"---\n{crd}---\nkind: B\n")
    assert first[0] is second[0] and first[1] != second[1]
