"""OpenAlex works (https://docs.openalex.org/api-entities/works): a search and/or a filter (a
concept, a topic, a source ...), from a date on (publication or creation date), paged with a
cursor (https://docs.openalex.org/how-to-use-the-api/get-lists-of-entities/paging). The records
are OpenAlex work objects, read by the corpus reader's openalex dialect."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from discovery.feeds.fetch import FeedError
from discovery.feeds.page import Page

# Only what the openalex dialect reads: a full work is ten times larger.
SELECT = "id,doi,title,display_name,publication_year,authorships,primary_location,locations,ids," \
         "abstract_inverted_index"
DATE_FILTERS = ("from_publication_date", "from_created_date")


@dataclass(frozen=True)
class OpenAlexWorks:
    base_url: str  # the API root, e.g. https://api.openalex.org
    search: str = ""  # full-text search words
    filter: str = ""  # an OpenAlex filter, e.g. concepts.id:C204321447
    date_filter: str = "from_publication_date"  # or from_created_date (needs an API key at OpenAlex)
    per_page: int = 200  # OpenAlex's maximum
    mailto: str = ""  # the polite pool: a contact address
    dialect = "openalex"

    def url(self, *, since: date, token: str | None = None) -> str:
        if self.date_filter not in DATE_FILTERS:
            raise ValueError(f"date_filter must be one of {', '.join(DATE_FILTERS)}")
        filters = [f for f in (self.filter.strip(), f"{self.date_filter}:{since.isoformat()}") if f]
        query = {"filter": ",".join(filters), "search": self.search.strip(), "select": SELECT,
                 "per-page": self.per_page, "cursor": token or "*", "mailto": self.mailto}
        return f"{self.base_url.rstrip('/')}/works?{urlencode({k: v for k, v in query.items() if v})}"

    def parse(self, body: bytes) -> Page:
        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise FeedError(f"the answer is not valid JSON: {str(exc)[:200]}") from None
        results = data.get("results") if isinstance(data, dict) else None
        if not isinstance(results, list):
            raise FeedError("not an OpenAlex list answer (no results list)")
        works = [w for w in results if isinstance(w, dict)]
        meta = data.get("meta") if isinstance(data.get("meta"), dict) else {}
        # The page after the last one is empty and may still carry a cursor: stop at an empty page.
        cursor = meta.get("next_cursor") if works else None
        return Page(records=works, next=cursor if isinstance(cursor, str) and cursor else None,
                    ignored=len(results) - len(works))
