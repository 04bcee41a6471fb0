"""Cells of CSV exports, safe to open in a spreadsheet program."""

import json


def spreadsheet_safe(value) -> str:
    """`value` as a CSV cell. A cell starting with = + - @ (or a tab or CR) is a formula to
    spreadsheet programs, so it is prefixed with a quote; lists and objects are JSON."""
    text = json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
