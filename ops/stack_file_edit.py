"""Reading and rewriting revision values in a stack file, every other byte kept as it was."""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML, YAMLError
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

from ops.errors import PromotionRefused

_STR_TAG = "tag:yaml.org,2002:str"


def dotted(config_path: Sequence[str | int]) -> str:
    """A config path as the stack file's keys read: gitops:applications.app.sources[1].revision."""
    text = ""
    for part in config_path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _node(text: str, config_path: Sequence[str | int]) -> Any:
    node = YAML(typ="rt").compose(text)
    for key in ("config", *config_path):
        if isinstance(key, int):
            if not isinstance(node, SequenceNode) or not 0 <= key < len(node.value):
                return None
            node = node.value[key]
            continue
        if not isinstance(node, MappingNode):
            return None
        node = next((v for k, v in node.value if isinstance(k, ScalarNode) and k.value == key), None)
    return node


def _scalar_node(text: str, config_path: Sequence[str | int]) -> ScalarNode | None:
    node = _node(text, config_path)
    return node if isinstance(node, ScalarNode) else None


def mapping_node(text: str, config_path: Sequence[str | int]) -> MappingNode | None:
    node = _node(text, config_path)
    return node if isinstance(node, MappingNode) else None


def read_scalar(text: str, config_path: Sequence[str | int]) -> str | None:
    """The value at `config:` → config_path in a stack file, None when absent or not a scalar."""
    node = _scalar_node(text, config_path)
    return None if node is None else str(node.value)


def _render(value: str, style: str | None) -> str:
    """The YAML token for `value` in the quoting style the old value had; a plain scalar that YAML
    would read as something other than a string (all digits, 1e10) is double-quoted instead."""
    if style == "'":
        return "'" + value.replace("'", "''") + "'"
    if style == '"' or str(YAML().resolver.resolve(ScalarNode, value, (True, False))) != _STR_TAG:
        return json.dumps(value)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._/+-]*", value):
        return json.dumps(value)
    return value


def edit_revisions(text: str, updates: Mapping[tuple[str | int, ...], str]) -> str:
    """The stack file with the scalars at each config path replaced and every other byte kept.

    The round-trip loader's node marks say where each old value starts and ends; the new value is
    spliced in there in the old value's quoting style. (Dumping the round-trip document would be the
    usual way, but it re-flows long lines and can re-indent, and reviewers should see only revisions
    change.) The result is parsed again and must equal the old data with just these values changed.
    """
    spans = []
    for path, value in updates.items():
        node = _scalar_node(text, path)
        if node is None:
            raise PromotionRefused(f"{dotted(path)} is not a scalar in the stack file")
        if getattr(node, "anchor", None):
            raise PromotionRefused(f"{dotted(path)} is a YAML anchor shared with other keys; write the value out")
        if node.style in ("|", ">") or node.start_mark.line != node.end_mark.line:
            raise PromotionRefused(f"{dotted(path)} spans several lines; write it on one line to promote it")
        token = _render(value, node.style)
        start, end = node.start_mark.index, node.end_mark.index
        if start == end and text[start - 1 : start] == ":":
            token = " " + token
        spans.append((start, end, token))
    edited = text
    for start, end, token in sorted(spans, reverse=True):
        edited = edited[:start] + token + edited[end:]

    expected = YAML(typ="safe").load(text) or {}
    for path, value in updates.items():
        holder = expected["config"]
        for key in path[:-1]:
            holder = holder[key]
        holder[path[-1]] = value
    try:
        reread = YAML(typ="safe").load(edited)
    except YAMLError as error:
        raise PromotionRefused(f"editing the stack file would break it: {error}") from None
    if reread != expected:
        raise PromotionRefused("editing the stack file would change more than the revisions (YAML anchors?)")
    return edited


def write_atomically(path: Path, text: str) -> None:
    """Write via a temporary file in the same directory and os.replace: a reader (or an interrupted
    run) sees the old file or the new one, never a part."""
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
