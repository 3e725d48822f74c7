"""Field mappings from one JSON object to a reader's raw fields, one function per dialect:

- generic JSON / JSON Lines: 'title', 'abstract' and optional 'authors', 'year', 'venue', 'doi',
  'arxiv_id', 'url', 'id' (a few common aliases, and Semantic Scholar's 'externalIds');
- the arXiv metadata snapshot (Kaggle 'arxiv-metadata-oai-snapshot.json'): 'id', 'authors' string
  and 'authors_parsed', 'journal-ref', 'versions' [{'version', 'created'}], 'update_date';
- OpenAlex works: the abstract as 'abstract_inverted_index' {word: [positions]}, 'doi' as a URL,
  'publication_year', 'authorships[].author.display_name', 'primary_location.source.display_name'.

Each returns the raw-field dict for `build_record`, or a string: why the object was rejected."""
from __future__ import annotations

from discovery.corpus.records import clean_arxiv_id


def _first(obj: dict, *keys):
    return next((obj[k] for k in keys if obj.get(k) not in (None, "", [])), None)


def generic_fields(obj: dict, max_abstract_chars: int) -> dict | str:
    ids = obj.get("externalIds") if isinstance(obj.get("externalIds"), dict) else {}
    venue = _first(obj, "venue", "journal", "booktitle", "container-title", "source")
    return {
        "title": obj.get("title"),
        "abstract": _first(obj, "abstract", "summary"),
        "authors": _first(obj, "authors", "author"),
        "year": _first(obj, "year", "publication_year", "published", "date"),
        "venue": venue if isinstance(venue, str) else "",
        "doi": _first(obj, "doi", "DOI") or ids.get("DOI"),
        "arxiv_id": _first(obj, "arxiv_id", "arxiv", "arxivId") or ids.get("ArXiv"),
        "url": _first(obj, "url", "link"),
        "source_id": _first(obj, "id", "paperId", "paper_id"),
    }


def arxiv_fields(obj: dict, max_abstract_chars: int) -> dict | str:
    parsed = obj.get("authors_parsed")
    if isinstance(parsed, list) and all(isinstance(p, list) for p in parsed):
        # [last, first, suffix]: 'Smith, John, Jr' would not survive a split on commas
        authors = [" ".join(str(x) for x in (p[1:2] + p[:1] + p[2:3]) if x) for p in parsed]
    else:
        authors = obj.get("authors")
    versions = obj.get("versions")
    first = versions[0] if isinstance(versions, list) and versions else None
    created = first.get("created") if isinstance(first, dict) else None
    arxiv_id = clean_arxiv_id(str(obj.get("id") or ""))
    doi = obj.get("doi")
    return {
        "title": obj.get("title"),
        "abstract": obj.get("abstract"),
        "authors": authors,
        # first version's date; else the yymm of a new-style id; never update_date (a later revision)
        "year": created or (f"20{arxiv_id[:2]}" if arxiv_id[4:5] == "." else None),
        "venue": obj.get("journal-ref"),
        "doi": doi.split()[0] if isinstance(doi, str) and doi.split() else doi,  # may list several
        "arxiv_id": arxiv_id,
        "url": f"https://arxiv.org/abs/{arxiv_id}" if arxiv_id else "",
        "source_id": arxiv_id,
    }


def openalex_fields(obj: dict, max_abstract_chars: int) -> dict | str:
    abstract = inverted_index_text(obj.get("abstract_inverted_index"), max_abstract_chars)
    if abstract is None:
        return f"abstract too long or malformed: abstract_inverted_index (limit {max_abstract_chars:,} characters)"
    location = obj.get("primary_location") or {}
    source = (location.get("source") or {}) if isinstance(location, dict) else {}
    authorships = obj.get("authorships") if isinstance(obj.get("authorships"), list) else []
    authors = [((a.get("author") or {}).get("display_name") or a.get("raw_author_name") or "")
               for a in authorships if isinstance(a, dict)]
    landing = [loc.get("landing_page_url") or "" for loc in obj.get("locations") or [] if isinstance(loc, dict)]
    ids = obj.get("ids") if isinstance(obj.get("ids"), dict) else {}
    return {
        "title": _first(obj, "title", "display_name"),
        "abstract": abstract,
        "authors": authors,
        "year": obj.get("publication_year"),
        "venue": source.get("display_name") if isinstance(source, dict) else "",
        "doi": obj.get("doi") or ids.get("doi"),
        "arxiv_id": next((u for u in landing if "arxiv.org/" in u), ""),
        "url": (location.get("landing_page_url") if isinstance(location, dict) else None) or obj.get("doi"),
        "source_id": str(obj.get("id") or "").removeprefix("https://openalex.org/"),
    }


def inverted_index_text(index, max_chars: int) -> str | None:
    """The abstract from {word: [positions]}; None when malformed or longer than max_chars (a
    word takes at least two characters with its space, so positions past max_chars / 2 already
    mean too long: checked before anything is allocated)."""
    if index is None:
        return ""
    if not isinstance(index, dict):
        return None
    slots = {}
    for word, positions in index.items():
        if not isinstance(positions, list):
            return None
        for pos in positions:
            if not isinstance(pos, int) or not 0 <= pos <= max_chars // 2:
                return None
            slots[pos] = word
    return " ".join(slots[p] for p in sorted(slots))


DIALECTS = {"json": generic_fields, "jsonl": generic_fields, "arxiv": arxiv_fields, "openalex": openalex_fields}


def guess_dialect(obj: dict) -> str | None:
    """'arxiv' or 'openalex' when the object carries keys only that source uses, else None."""
    if "abstract_inverted_index" in obj or "authorships" in obj:
        return "openalex"
    if str(obj.get("id", "")).startswith("https://openalex.org/"):
        return "openalex"
    if "authors_parsed" in obj or ("journal-ref" in obj and "update_date" in obj):
        return "arxiv"
    return None
