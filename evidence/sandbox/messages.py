"""The translation marker of the child's refusals, on its own so that every part of the
child can use it without importing another."""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark a message for translation (evidence.tables.N_, here so that a picture's child
    starts without the table readers' imports)."""
    return message
