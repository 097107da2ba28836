"""Typed, validated settings of one stack."""

from settings.errors import SettingsError
from settings.load import (
    load_settings,
    load_stack_file,
    parse_settings,
    read_stack_config,
    stack_file_for,
)
from settings.stack import StackSettings

__all__ = [
    "SettingsError",
    "StackSettings",
    "load_settings",
    "load_stack_file",
    "parse_settings",
    "read_stack_config",
    "stack_file_for",
]
