"""SHA-1 and SHA-256 without ``hashlib``'s OpenSSL import.

``import hashlib`` loads OpenSSL (``_hashlib``, ~3 ms of every diff's start-up) though a parse
only needs SHA-1 of short strings (card ids) and the text renderer one SHA-256 (its template
check). CPython's own modules give the same digests at the same speed; where an interpreter
lacks them, ``hashlib`` does the job.
"""

from __future__ import annotations

try:
    from _sha1 import sha1
except ImportError:  # pragma: no cover - CPython builds _sha1 unless told not to
    from hashlib import sha1
try:
    from _sha256 import sha256  # CPython 3.11
except ImportError:  # pragma: no cover - 3.12+ names it _sha2
    try:
        from _sha2 import sha256
    except ImportError:
        from hashlib import sha256

__all__ = ["sha1", "sha256"]
