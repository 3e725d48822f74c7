"""What a corpus reader yields: a `Record` (one paper, every string normalised plain text) or a
`RecordError` (one bad record, with where and why), plus the checks that turn the raw fields a
format reader found into one of the two, and the deduplication fingerprint.

Policy, decided once here for every format:
- a record without a title (or with one of punctuation only) is rejected ("missing title"); a
  record without an abstract is kept
  (BibTeX and RIS often lack one; the import service decides what to do with it);
- an abstract longer than `CorpusConfig.max_abstract_chars` is rejected before it is normalised;
- a year that is not a number is dropped and the record kept: the year is optional metadata and
  the abstract is what the ideation space needs. A four-digit year inside text is used
  ("2020a", "2019-05-01", "Spring 2018"); a year outside 1600..2100 is dropped;
- a DOI that does not look like one (10.NNNN/...) is dropped: a wrong DOI would merge different
  papers; a URL that is not http(s) is dropped: it would be rendered as a link.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field

from discovery.corpus.text import normalise_text


@dataclass
class CorpusConfig:
    max_abstract_chars: int = 100_000  # longer abstracts are rejected; real ones are < 5,000
    max_title_chars: int = 2_000  # a longer "title" means the file is out of step (text format)
    max_record_bytes: int = 4_000_000  # a record (JSON line, BibTeX entry...) over this is skipped
    # unread: an abstract at the limit plus the long metadata an OpenAlex work carries
    sample_bytes: int = 64 * 1024  # how much of the (decompressed) file format detection reads
    # Denial-of-service bounds (a 1 MB gzip of 1 GB of newlines took minutes): reading stops with
    # an error after this many blank lines in a row, or after more blank lines than this plus ten
    # for each line of text; real files have a few between records.
    max_blank_lines: int = 10_000
    # A compressed file may decompress to this many times its size (at least 1 MB of it); text
    # compresses 3-10x, a compression bomb 1,000x.
    max_expansion: int = 100
    max_field_lines: int = 1_000  # a quoted CSV field spanning more lines is not an abstract


@dataclass
class Record:
    title: str
    abstract: str = ""
    authors: list[str] = field(default_factory=list)
    year: int | None = None
    venue: str = ""
    doi: str = ""  # lower-case, bare (no https://doi.org/)
    arxiv_id: str = ""  # bare, no version suffix: 2106.09685 or hep-th/9901001
    url: str = ""  # http(s) only
    source_id: str = ""  # the record's id in the source file, if any


@dataclass
class RecordError:
    location: str  # human-readable: "line 12", "record 7 (line 40)"
    reason: str  # "missing title", "invalid JSON: Expecting ',' delimiter at column 80"


FINGERPRINT_MAX_CHARS = 300  # the length of the papers table's fingerprint column


class FormatError(ValueError):
    """A file-level problem: unreadable, unknown format, CSV without the needed columns."""


_DOI = re.compile(r"10\.\d{4,9}/\S+")
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
_ARXIV_NEW = re.compile(r"(?<![\d.])(\d{4}\.\d{4,5})(?:v\d+)?(?![\d])")
_ARXIV_OLD = re.compile(r"(?<![\w-])([a-z][a-z-]*(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?(?!\d)")
_ARXIV_URL = re.compile(r"arxiv\.org/(?:abs|pdf)/([^?#\s]+?)(?:\.pdf)?(?:[?#]|$)", re.IGNORECASE)
_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.(.+)$", re.IGNORECASE)
_ARXIV_PREFIX = re.compile(r"^arxiv:\s*", re.IGNORECASE)
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_HTTP = re.compile(r"https?://[^\s\x00-\x1f\x7f-\x9f\u00ad\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]+",
                   re.IGNORECASE)
_AUTHOR_SEPARATORS = re.compile(r",|\s+and\s+")


def clean_doi(value: str) -> str:
    if not value:
        return ""
    doi = _DOI_PREFIX.sub("", value.strip()).strip().lower()
    return doi if _DOI.fullmatch(doi) else ""


def clean_arxiv_id(value: str) -> str:
    """The bare id (no 'arXiv:', URL or version) from an id, an abs/pdf URL or an arXiv DOI."""
    value = value.strip()
    if not value:
        return ""
    url = _ARXIV_URL.search(value)
    if url:
        value = url.group(1)
    doi = _ARXIV_DOI.match(clean_doi(value) or "")
    if doi:
        value = doi.group(1)
    value = _ARXIV_PREFIX.sub("", value)
    match = _ARXIV_NEW.fullmatch(value) or _ARXIV_OLD.fullmatch(value)
    return match.group(1) if match else ""


def parse_year(value) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        year = value
    else:
        match = _YEAR.search(str(value))
        if not match:
            return None
        year = int(match.group(1))
    return year if 1600 <= year <= 2100 else None


def clean_url(value: str) -> str:
    """The URL if it is http(s) and free of control, zero-width and bidirectional characters (a
    U+202E in a link's text makes it read as another address)."""
    value = value.strip()
    return value if _HTTP.fullmatch(value) else ""


def flip_name(name: str) -> str:
    """'Last, First' -> 'First Last'; 'Last, Jr., First' -> 'First Last Jr.'."""
    if "," not in name:
        return name
    parts = [p.strip() for p in name.split(",")]
    if len(parts) == 2 and all(parts):
        return f"{parts[1]} {parts[0]}"
    if len(parts) == 3 and all(parts):
        return f"{parts[2]} {parts[0]} {parts[1]}"
    return name


def split_authors(value) -> list[str]:
    """Author names from a list (of names or {'name': ...} objects) or one string.

    A string is split on ';' when it has one (then each part may be 'Last, First'), else on
    ' and ' and ',' (arXiv's 'A. Smith, B. Jones and C. Lee'), except 'Surname, Given names'
    (one comma, one word before it), which is one name."""
    if isinstance(value, list):
        names = [_author_name(v) for v in value]
    elif isinstance(value, str):
        if ";" in value:
            names = [flip_name(p) for p in value.split(";")]
        elif value.count(",") == 1 and " " not in value.split(",")[0].strip():
            names = [flip_name(value)]  # one 'Last, First' name, not two names
        else:
            names = _AUTHOR_SEPARATORS.split(value)
    else:
        names = []
    names = (normalise_text(n) for n in names)
    return [n for n in names if n and n.casefold() not in ("others", "et al.", "et al")]


def _author_name(value) -> str:
    if isinstance(value, str):
        return flip_name(value)
    if isinstance(value, dict):
        name = value.get("name") or value.get("display_name")
        if isinstance(name, str):
            return name
        given, family = value.get("given"), value.get("family")
        return " ".join(p for p in (given, family) if isinstance(p, str))
    return ""


def as_text(value) -> str | None:
    """A field as one string; None when it is a type that cannot be text (an object)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return " ".join(value)  # an abstract given as a list of sentences or paragraphs
    return None


def build_record(raw: dict, location: str, config: CorpusConfig) -> Record | RecordError:
    """Validate and normalise the raw fields one reader found ('title', 'abstract', 'authors',
    'year', 'venue', 'doi', 'arxiv_id', 'url', 'source_id'; all optional)."""
    texts = {}
    for name in ("title", "abstract", "venue", "doi", "arxiv_id", "url", "source_id"):
        texts[name] = as_text(raw.get(name))
        if texts[name] is None:
            return RecordError(location, f"{name} is not text (got a JSON {type(raw[name]).__name__})")
    if len(texts["abstract"]) > config.max_abstract_chars:
        return RecordError(location, _too_long("abstract", len(texts["abstract"]), config.max_abstract_chars))
    title = normalise_text(texts["title"])
    if not title:
        return RecordError(location, "missing title")
    if not title_key(title):  # '???' would share its fingerprint with every other such title
        return RecordError(location, "missing title: it has no letters or digits")
    if len(title) > config.max_title_chars:
        return RecordError(location, _too_long("title", len(title), config.max_title_chars))
    url = clean_url(texts["url"])
    return Record(
        title=title,
        abstract=normalise_text(texts["abstract"]),
        authors=split_authors(raw.get("authors")),
        year=parse_year(raw.get("year")),
        venue=normalise_text(texts["venue"]),
        doi=clean_doi(texts["doi"]),
        arxiv_id=clean_arxiv_id(texts["arxiv_id"]) or clean_arxiv_id(url) or clean_arxiv_id(texts["doi"]),
        url=url,
        source_id=texts["source_id"].strip(),
    )


def too_large(config: CorpusConfig) -> str:
    return (f"record too large: over {config.max_record_bytes:,} bytes, skipped without reading it whole "
            f"(abstracts are limited to {config.max_abstract_chars:,} characters)")


def _too_long(name: str, length: int, limit: int) -> str:
    return f"{name} too long: {length:,} characters (limit {limit:,})"


def title_key(title: str) -> str:
    """Casefolded, accents and punctuation stripped, spaces collapsed. Hyphens and apostrophes
    vanish rather than split words, so 'Pre-training' and 'Pretraining' agree."""
    text = unicodedata.normalize("NFKD", title.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"[-\u2010-\u2015'\u2019]", "", text)
    return " ".join(re.sub(r"[\W_]+", " ", text).split())


def dedup_keys(record: Record) -> list[str]:
    """Every key that identifies the paper, strongest first: DOI, arXiv id, title."""
    keys = [f"doi:{record.doi}"] if record.doi else []
    if record.arxiv_id:
        keys.append(f"arxiv:{record.arxiv_id}")
    return [bounded_key(k) for k in keys + [f"title:{title_key(record.title)}"]]


def fingerprint(record: Record) -> str:
    """The deduplication key: 'doi:<doi>', else 'arxiv:<id>', else 'title:<normalised title>',
    at most FINGERPRINT_MAX_CHARS long (see bounded_key).

    The year does not take part: the same paper appears with different years (arXiv preprint,
    then the conference or journal version) far more often than two different papers share a
    whole title, and a record from the plain-text format has no year at all."""
    return dedup_keys(record)[0]


def bounded_key(key: str) -> str:
    """The key itself when it fits the database column, else its prefix and a hash of the whole
    key: a 440-character title overflowed the column on PostgreSQL and blocked the import. Keys
    that fit are unchanged, so papers stored before keep matching."""
    if len(key) <= FINGERPRINT_MAX_CHARS:
        return key
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).hexdigest()
    return f"{key[:FINGERPRINT_MAX_CHARS - len(digest) - 1]}~{digest}"
