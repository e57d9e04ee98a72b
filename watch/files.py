"""Linked documents kept on disk, content-addressed under `<data_dir>/files/`.

A file is named by the SHA-256 of its bytes, so the same PDF reached from two places, or
fetched again unchanged, is stored once.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

_SUFFIX_RE = re.compile(r"^\.[a-z0-9]{1,8}$")

SUFFIX_BY_TYPE = {
    "application/pdf": ".pdf", "text/html": ".html", "application/xhtml+xml": ".html",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.oasis.opendocument.text": ".odt", "text/plain": ".txt",
    "application/msword": ".doc", "application/rtf": ".rtf",
}


def suffix_for(url: str, content_type: str) -> str:
    """A file suffix from the content type, else from the URL's path, else `.bin`."""
    if content_type in SUFFIX_BY_TYPE:
        return SUFFIX_BY_TYPE[content_type]
    name = url.split("?", 1)[0].split("#", 1)[0].rsplit("/", 1)[-1].lower()
    suffix = os.path.splitext(name)[1]
    return suffix if _SUFFIX_RE.match(suffix) else ".bin"


class FileStore:
    def __init__(self, root: Path):
        self.root = Path(root)   # the data directory's `layout.files`

    def put(self, data: bytes, suffix: str) -> str:
        """Store `data` (once) and return its path relative to the store."""
        digest = hashlib.sha256(data).hexdigest()
        relative = f"{digest[:2]}/{digest}{suffix}"
        target = self.root / relative
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            # write then rename: a reader never sees half a file, a crash leaves no stub
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return relative

    def path(self, relative: str) -> Path:
        return self.root / relative

    def exists(self, relative: str | None) -> bool:
        return bool(relative) and (self.root / relative).is_file()
