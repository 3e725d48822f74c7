"""Normalisation of LaTeX and HTML to plain text, and the deduplication fingerprint."""
import pytest

from discovery.corpus import FINGERPRINT_MAX_CHARS, Record, dedup_keys, fingerprint, normalise_text


@pytest.mark.parametrize("raw, plain", [
    (r"$\alpha$-divergence", "α-divergence"),
    (r"\emph{x} and \textbf{bold}", "x and bold"),
    (r"an {\em old style} switch", "an old style switch"),
    (r'{\"o} and M{\"u}ller and \'{\i}', "ö and Müller and í"),
    (r"\c{c}a \v{s} \ss{} \o", "ça š ß ø"),
    ("pages 1--10---a dash", "pages 1–10—a dash"),
    ("AT&amp;T &lt;3 &#x3b1;", "AT&T <3 α"),
    ("<p>Hello <b>world</b></p><script>alert('x')</script> done", "Hello world done"),
    ("&lt;script&gt;alert(1)&lt;/script&gt;kept", "kept"),
    ("<style>p {color: red}</style>H<sub>2</sub>O <jats:p>text</jats:p>", "H2O text"),
    ("  many \n\t spaces\u00a0here\u200b ", "many spaces here"),
    (r"$O(n^{2/3})$ in $\mathbb{R}^d$, $\frac{1}{2}$", "O(n^(2/3)) in R^d, 1/2"),
    (r"costs $5 and $10", "costs $5 and $10"),
    (r"sets {1, ..., n} stay; {BERT} loses braces", "sets {1, ..., n} stay; BERT loses braces"),
    (r"as in \cite{foo}, Fig.~3 and ~10\%", "as in, Fig. 3 and ~10%"),
    (r"the \emphcurriculum of \mathcalO(n)", "the curriculum of O(n)"),
    ("``quoted''", "“quoted”"),
    ("a < b and c > d", "a < b and c > d"),
])
def test_it_normalises_latex_and_html_to_plain_text(raw, plain):
    assert normalise_text(raw) == plain


def test_it_leaves_no_markup_that_a_browser_would_run():
    text = normalise_text("<img src=x onerror=alert(1)><script src='evil.js'></script><iframe src='x'></iframe>safe")
    assert "<" not in text and text == "safe"


def test_the_fingerprint_prefers_doi_then_arxiv_then_title():
    assert fingerprint(Record(title="T", doi="10.1000/x", arxiv_id="2106.09685")) == "doi:10.1000/x"
    assert fingerprint(Record(title="T", arxiv_id="2106.09685")) == "arxiv:2106.09685"
    title = "Pre-training of Déep   Nets: a Survey!"
    assert fingerprint(Record(title=title)) == "title:pretraining of deep nets a survey"
    assert dedup_keys(Record(title="T", doi="10.1000/x", arxiv_id="1")) == ["doi:10.1000/x", "arxiv:1", "title:t"]


def test_the_title_fingerprint_ignores_year_case_accents_and_punctuation():
    preprint = Record(title="BERT: Pre-training of Deep Bidirectional Transformers", year=2018)
    published = Record(title="Bert — pretraining of deep bidirectional transformers.", year=2019)
    assert fingerprint(preprint) == fingerprint(published)
    assert fingerprint(Record(title="A Different Paper")) != fingerprint(preprint)


@pytest.mark.parametrize("hostile", [
    "\\a{" * 20_000 + "x" + "}" * 20_000,  # nesting far past the recursion limit
    "\\(" * 20_000, "<script" * 10_000, "\\\\" * 50_000, " " * 50_000 + "\\cite{x}",
])
def test_it_survives_deep_nesting_and_unclosed_markup(hostile):
    assert isinstance(normalise_text(hostile), str)


def test_a_long_title_gives_a_fingerprint_that_fits_the_column():
    # Issue 15 item 16: 'title:' + a 440-character title overflowed the 300-character column.
    base = "A Study of " + "very " * 85
    long_one, long_two = Record(title=base + "long titles"), Record(title=base + "longer titles")
    assert len(long_one.title) > 440 and len(fingerprint(long_one)) == FINGERPRINT_MAX_CHARS == 300
    assert fingerprint(long_one) != fingerprint(long_two)  # same first 300 characters, different papers
    assert fingerprint(long_one) == fingerprint(Record(title=base.upper() + "LONG TITLES!"))
    assert fingerprint(long_one).startswith("title:a study of very very")
    assert len(dedup_keys(long_one)[-1]) == 300
    short = Record(title="x" * 294)  # keys up to the limit are unchanged: stored papers keep matching
    assert fingerprint(short) == "title:" + "x" * 294


@pytest.mark.parametrize("control", ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067",
                                     "\u2068", "\u2069", "\u200e", "\u200f", "\u061c"])
def test_it_strips_bidirectional_controls(control):
    # Issue 15 item 24: U+202E turned 'gpj.exe' into a title that reads differently than it is.
    assert normalise_text(f"Invoice {control}gpj.exe{control} paper") == "Invoice gpj.exe paper"
