"""Deduplication in the papers upsert (issue 15, item 22): one paper with and without a DOI is
one row, in one batch or across imports; a later record never renames a stored paper; two
papers that share a title but carry different DOIs stay two."""
import pytest

from discovery.corpus import Record
from webapp.papers.models import Paper
from webapp.papers.services import papers_upsert

pytestmark = pytest.mark.django_db
TITLE = "Sparse Attention for Long Documents"


def upsert(*records):
    return papers_upsert(items=list(enumerate(records)), source="test")


def test_a_paper_without_then_with_a_doi_is_one_row():
    upsert(Record(title=TITLE, abstract="We study long documents."))
    upsert(Record(title=TITLE.upper(), doi="10.1/sparse"))
    paper = Paper.objects.get()
    assert (paper.doi, paper.abstract, paper.title) == ("10.1/sparse", "We study long documents.", TITLE)


def test_a_paper_with_then_without_a_doi_is_one_row():
    upsert(Record(title=TITLE, doi="10.1/sparse"))
    upsert(Record(title=TITLE, abstract="We study long documents."))
    assert Paper.objects.get().abstract == "We study long documents."


def test_both_in_one_batch_are_one_row():
    result = upsert(Record(title=TITLE), Record(title=TITLE, doi="10.1/sparse", year=2021))
    paper = Paper.objects.get()
    assert (paper.doi, paper.year, result.created) == ("10.1/sparse", 2021, 1)


def test_a_later_record_with_the_same_doi_keeps_the_stored_title():
    upsert(Record(title=TITLE, doi="10.1/sparse"))
    upsert(Record(title="Something else entirely", doi="10.1/sparse", year=2021))
    paper = Paper.objects.get()
    assert (paper.title, paper.year) == (TITLE, 2021)


def test_same_title_different_dois_stay_two_papers():
    upsert(Record(title="Introduction", doi="10.1/a"))
    upsert(Record(title="Introduction", doi="10.1/b"))
    assert Paper.objects.count() == 2


def test_a_paper_found_by_both_lookups_is_updated_once_with_everything():
    upsert(Record(title=TITLE))
    upsert(Record(title=TITLE, doi="10.1/sparse"))  # keeps its title fingerprint, gains the DOI
    result = upsert(Record(title=TITLE, abstract="We study long documents."), Record(title=TITLE, year=2021))
    paper = Paper.objects.get()
    assert (paper.abstract, paper.year, result.created) == ("We study long documents.", 2021, 0)


def test_an_arxiv_preprint_and_its_journal_doi_are_one_row():
    """OpenAlex gives a journal version with its DOI only; arXiv gave the preprint with its id."""
    upsert(Record(title=TITLE, arxiv_id="2101.00001", abstract="We study long documents."))
    upsert(Record(title=TITLE, doi="10.1/sparse", venue="TACL"))
    paper = Paper.objects.get()
    assert (paper.arxiv_id, paper.doi, paper.venue) == ("2101.00001", "10.1/sparse", "TACL")


def test_a_journal_doi_then_its_arxiv_preprint_are_one_row():
    upsert(Record(title=TITLE, doi="10.1/sparse"))
    upsert(Record(title=TITLE, arxiv_id="2101.00001"))
    assert Paper.objects.get().arxiv_id == "2101.00001"


def test_same_title_different_arxiv_ids_stay_two_papers_even_with_a_doi():
    upsert(Record(title="Introduction", arxiv_id="2101.00001"))
    upsert(Record(title="Introduction", arxiv_id="2101.00002", doi="10.1/b"))
    assert Paper.objects.count() == 2
