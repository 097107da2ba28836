"""Typed, validated settings of one stack."""

from settings.errors import SettingsError
from settings.load import (
    StackFile,
    load_settings,
    load_stack_file,
    parse_settings,
    program_stack_file,
    read_stack_file,
    stack_file_for,
)
from settings.stack import StackSettings

__all__ = [
    "SettingsError",
    "StackFile",
    "StackSettings",
    "load_settings",
    "load_stack_file",
    "parse_settings",
    "program_stack_file",
    "read_stack_file",
    "stack_file_for",
]
