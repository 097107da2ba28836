"""Name templates of discovered applications, filled from the folder's path with the parameters
Argo CD's ApplicationSet git directory generator gives each folder.

Mirrors `GitGenerator.generateParamsFromApps` (applicationset/generators/git.go) in its flat,
non-Go-template mode: for the folder `envs/prod/apps/api`,

    {path}                    envs/prod/apps/api
    {path.basename}           api
    {path.basenameNormalized} api, through `utils.SanitizeName`
    {path[0]} .. {path[3]}    envs, prod, apps, api
    {name}                    the folder's basename (this project's original placeholder)
    {path.normalized}         envs-prod-apps-api: SanitizeName of the whole path, which an
                              ApplicationSet writes as `{{ .path.path | normalize }}`

One pair of braces, not ApplicationSet's two: `{path.basename}`.
"""

from __future__ import annotations

import posixpath
import re

NAME_PLACEHOLDER = "{name}"
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_SEGMENT = re.compile(r"^path\[(\d+)\]$")
_FIXED_PARAMETERS = ("name", "path", "path.basename", "path.basenameNormalized", "path.normalized")
_INVALID_DNS_NAME_CHARACTERS = re.compile(r"[^-a-z0-9.]")
_MAX_DNS_NAME_LENGTH = 253


def sanitize_name(name: str) -> str:
    """Argo CD's `utils.SanitizeName` (applicationset/utils/utils.go): lowercase, every character
    outside `[-a-z0-9.]` becomes `-`, at most 253 characters, `-` and `.` trimmed from both ends."""
    sanitized = _INVALID_DNS_NAME_CHARACTERS.sub("-", name.lower())[:_MAX_DNS_NAME_LENGTH]
    return sanitized.strip("-.")


def path_parameters(folder: str) -> dict[str, str]:
    """Every parameter a template may use, for one discovered folder."""
    basename = posixpath.basename(folder)
    parameters = {
        "name": basename,
        "path": folder,
        "path.basename": basename,
        "path.basenameNormalized": sanitize_name(basename),
        "path.normalized": sanitize_name(folder),
    }
    for index, segment in enumerate(folder.split("/")):
        if segment:
            parameters[f"path[{index}]"] = segment
    return parameters


def template_problem(template: str) -> str | None:
    """Why `template` cannot be filled for any folder, or None when it can be."""
    if "{{" in template or "}}" in template:
        return f"{template!r}: write placeholders with one pair of braces, like {{path.basename}}"
    remainder = _PLACEHOLDER.sub("", template)
    if "{" in remainder or "}" in remainder:
        return f"{template!r}: unbalanced braces"
    for parameter in _PLACEHOLDER.findall(template):
        if parameter not in _FIXED_PARAMETERS and not _SEGMENT.match(parameter):
            known = ", ".join(f"{{{name}}}" for name in (*_FIXED_PARAMETERS, "path[0]"))
            return f"{template!r}: unknown placeholder {{{parameter}}} (known: {known}, ...)"
    return None


def fill_template(template: str, folder: str) -> str:
    """The template with each placeholder replaced; KeyError names a `{path[n]}` deeper than the folder."""
    parameters = path_parameters(folder)
    return _PLACEHOLDER.sub(lambda match: parameters[match.group(1)], template)
