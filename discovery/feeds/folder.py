"""A watched folder: the settled regular files under it with their content hash, so that a file
is imported once per content (a renamed copy is the same file; an edited one is new)."""
from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FolderFile:
    path: Path
    relative: str  # the path under the watched folder, as the user knows the file
    sha256: str
    size: int


def folder_scan(root: Path, *, settle_s: float = 5.0, now: float | None = None) -> list[FolderFile]:
    """Files under `root` in name order, skipping dotfiles, symbolic links (they could point out
    of the folder) and files modified in the last `settle_s` seconds (still being copied in)."""
    now = time.time() if now is None else now
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(folder) / name
            if name.startswith(".") or path.is_symlink() or not path.is_file():
                continue
            stat = path.stat()
            if now - stat.st_mtime < settle_s or stat.st_size == 0:
                continue
            found.append(FolderFile(path, str(path.relative_to(root)), file_sha256(path), stat.st_size))
    return found


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
