"""arXiv over OAI-PMH 2.0 (https://www.openarchives.org/OAI/openarchivesprotocol.html): ListRecords
in the `arXiv` metadata format for one set, from a day on, page after page by resumption token.

arXiv's sets are archives ("cs", "math", "physics:hep-th"), not categories; a feed for cs.CL asks
for the set cs and keeps the records listing cs.CL among their categories. Each record becomes an
object of the arXiv metadata snapshot's dialect (discovery.corpus.dialects.arxiv_fields), so the
import reads it like a line of that snapshot. Two OAI errors are not failures: noRecordsMatch is
an empty day, and badResumptionToken (tokens expire) means the list must be asked for again."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from discovery.feeds.fetch import FeedError
from discovery.feeds.page import Page

OAI = "{http://www.openarchives.org/OAI/2.0/}"
ARXIV = "{http://arxiv.org/OAI/arXiv/}"
# Archives whose set is physics:<archive> (https://arxiv.org/category_taxonomy).
PHYSICS_ARCHIVES = frozenset({"astro-ph", "cond-mat", "gr-qc", "hep-ex", "hep-lat", "hep-ph", "hep-th", "math-ph",
                              "nlin", "nucl-ex", "nucl-th", "physics", "quant-ph"})


class ExpiredToken(FeedError):
    """The server no longer knows the resumption token: ask for the list again from its day."""


def arxiv_set(category: str) -> str:
    """The OAI set of an arXiv category or archive: cs.CL -> cs, hep-th -> physics:hep-th."""
    archive = category.split(".")[0]
    return f"physics:{archive}" if archive in PHYSICS_ARCHIVES else archive


@dataclass(frozen=True)
class ArxivOAI:
    base_url: str  # the OAI-PMH endpoint, e.g. https://oaipmh.arxiv.org/oai
    categories: tuple[str, ...]  # cs.CL cs.LG; an archive alone ("cs") keeps its whole set
    dialect = "arxiv"

    @property
    def set_spec(self) -> str:
        sets = {arxiv_set(c) for c in self.categories}
        if len(sets) != 1:
            raise ValueError(f"categories {' '.join(self.categories)} span several OAI sets "
                             f"({', '.join(sorted(sets))})")
        return sets.pop()

    def url(self, *, since: date, token: str | None = None) -> str:
        # With a token, OAI-PMH forbids every other argument: the token carries them.
        query = {"verb": "ListRecords", "resumptionToken": token} if token else {
            "verb": "ListRecords", "metadataPrefix": "arXiv", "set": self.set_spec, "from": since.isoformat()}
        return f"{self.base_url}?{urlencode(query)}"

    def parse(self, body: bytes) -> Page:
        root = _xml(body)
        error = root.find(f"{OAI}error")
        if error is not None:
            return _oai_error(error)
        listing = root.find(f"{OAI}ListRecords")
        if listing is None:
            raise FeedError("not an OAI-PMH ListRecords answer (no ListRecords element)")
        page = Page()
        wanted = {c for c in self.categories if "." in c}  # bare archives keep the whole set
        for record in listing.iterfind(f"{OAI}record"):
            obj = _record(record)
            if obj is None or wanted and not wanted & set(obj["categories"].split()):
                page.ignored += 1
            else:
                page.records.append(obj)
        token = listing.find(f"{OAI}resumptionToken")
        if token is not None and (token.text or "").strip():  # an empty token ends the list
            page.next = token.text.strip()
        return page


def _xml(body: bytes) -> ET.Element:
    # An OAI answer never declares a DTD; refusing one rules out entity tricks before parsing.
    if b"<!DOCTYPE" in body[:4096] or b"<!ENTITY" in body:
        raise FeedError("the answer declares a DTD or entities; an OAI-PMH answer never does")
    try:
        return ET.fromstring(body)
    except ET.ParseError as exc:
        raise FeedError(f"the answer is not well-formed XML: {exc}") from None


def _oai_error(error: ET.Element) -> Page:
    code, text = error.get("code", ""), (error.text or "").strip()
    if code == "noRecordsMatch":
        return Page()
    if code == "badResumptionToken":
        raise ExpiredToken(f"OAI-PMH badResumptionToken: {text}")
    raise FeedError(f"OAI-PMH error {code}: {text}")


def _text(parent: ET.Element, name: str) -> str:
    node = parent.find(f"{ARXIV}{name}")
    return " ".join((node.text or "").split()) if node is not None else ""


def _record(record: ET.Element) -> dict | None:
    """The record as a line of the arXiv metadata snapshot; None for a deleted record."""
    header = record.find(f"{OAI}header")
    if header is not None and header.get("status") == "deleted":
        return None
    meta = record.find(f"{OAI}metadata/{ARXIV}arXiv")
    if meta is None:
        raise FeedError("a record without arXiv metadata (was the metadataPrefix arXiv?)")
    authors = [[_text(a, "keyname"), _text(a, "forenames"), _text(a, "suffix")]
               for a in meta.iterfind(f"{ARXIV}authors/{ARXIV}author")]
    return {"id": _text(meta, "id"), "title": _text(meta, "title"), "abstract": _text(meta, "abstract"),
            "authors_parsed": authors, "versions": [{"version": "v1", "created": _text(meta, "created")}],
            "journal-ref": _text(meta, "journal-ref"), "doi": _text(meta, "doi"),
            "categories": _text(meta, "categories"), "update_date": _text(meta, "updated")}
