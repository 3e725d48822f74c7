"""What every feed source returns for one fetched page."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Page:
    records: list[dict] = field(default_factory=list)  # raw objects in the source's corpus dialect
    next: str | None = None  # resumption token or cursor of the next page; None: the list is complete
    ignored: int = 0  # records left out: deleted, or outside the feed's categories
