"""Errors users see: each carries one clear line and maps to exit code 2 in the CLI."""

from __future__ import annotations

from wikisync.safe import safe_text


class WikisyncError(Exception):
    """Base class: the message is one line a user can act on, never a traceback."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        # Keep it to one line whatever the caller passed, with no terminal controls from a
        # page or a server's message.
        super().__init__(safe_text(" ".join(str(message).split())))


class ParseError(WikisyncError):
    """The input is not a readable page, or has no roadmap table."""


class SourceError(WikisyncError):
    """A SOURCE argument could not be turned into a document (missing file, bad reference)."""


class StoreError(WikisyncError):
    """The snapshot store is unreadable, locked, or could not be written."""


class ConfigError(WikisyncError):
    """The configuration is wrong; the message names the key."""


class FetchError(WikisyncError):
    """A remote wiki could not be read or written; the message says which page and URL."""


class WikiHTTPError(FetchError):
    """A wiki answered with an error; ``status`` (HTTP, or the API error's equivalent: 409 for
    an edit conflict) lets publish tell a conflict from a refusal whatever the wiki."""

    def __init__(self, message: str, *, status: int, url: str, server_message: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.url = url
        self.server_message = server_message
