"""Refusals of uploaded content, with stable codes the portal translates."""

from __future__ import annotations

from typing import Any


class RejectedUpload(Exception):
    """The file was refused; nothing derived from it may be stored."""

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(message % params if params else message)
        self.code = code
        self.message = message
        self.params = params
