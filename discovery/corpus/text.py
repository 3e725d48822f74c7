"""Normalisation of titles and abstracts to plain text: HTML (entities, tags, script and style
blocks with their content) and LaTeX (see latex.py) become Unicode text, whitespace collapses.
The result is inert: nothing in it is markup, so a template can render it escaped as usual."""
from __future__ import annotations

import html
import re
import unicodedata

from discovery.corpus.latex import latex_to_text

_INLINE_TAGS = (
    "a abbr b bdi bdo big cite code del dfn em font i ins kbd mark q s samp small span strike strong "
    "sub sup tt u var wbr"
)
_BLOCK_TAGS = (
    "address article aside blockquote br caption dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 h6 "
    "header hr li main nav ol p pre section table tbody td tfoot th thead title tr ul body html head "
    "meta link img iframe object embed form input button label select option textarea svg math "
    "mi mo mn ms mtext mrow msub msup msubsup mfrac msqrt mroot mover munder munderover mstyle semantics annotation"
)
# Only tags we know (or namespaced ones, as JATS '<jats:p>' and MathML '<mml:mi>'): 'a <b and c> d'
# in an abstract is maths, not markup, when b is not a tag name.
_TAG = r"</?(?:[A-Za-z][\w.-]*:)?({names})(?=[\s/>])[^<>]*>"
_INLINE = re.compile(_TAG.format(names="|".join(_INLINE_TAGS.split())), re.IGNORECASE)
_BLOCK = re.compile(_TAG.format(names="|".join(_BLOCK_TAGS.split())), re.IGNORECASE)
_NAMESPACED = re.compile(r"</?[A-Za-z][\w.-]*:[A-Za-z][\w.-]*(?=[\s/>])[^<>]*>")
_DANGEROUS = re.compile(r"<(script|style)\b[^<>]*>.*?(?:</\1\s*>|$)", re.IGNORECASE | re.DOTALL)
_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.DOTALL)
# Control and zero-width characters, and the bidirectional controls (Unicode's Bidi_Control set:
# U+202E made a title read backwards from where it was; plain titles need none of them).
_INVISIBLE_CHARS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u00ad\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff"
_INVISIBLE = re.compile(f"[{_INVISIBLE_CHARS}]")
# Anything that may need more than whitespace collapsing; most abstracts have none of it.
_NEEDS_WORK = re.compile(f"[\\\\$<&{{}}~^`{_INVISIBLE_CHARS}]")


def strip_html(text: str) -> str:
    text = html.unescape(text)  # first, so escaped markup ('&lt;script&gt;') is caught below too
    text = _DANGEROUS.sub(" ", text)
    text = _COMMENT.sub(" ", text)
    text = _INLINE.sub("", text)  # 'H<sub>2</sub>O' stays one word
    text = _BLOCK.sub(" ", text)
    return _NAMESPACED.sub(" ", text)


def normalise_text(text: str, drop_braces: bool = False) -> str:
    """Plain, NFC-normalised, single-spaced text from a title or abstract that may hold HTML or
    LaTeX. drop_braces: every brace is grouping (BibTeX values)."""
    if _NEEDS_WORK.search(text) or "--" in text or "''" in text:
        text = _INVISIBLE.sub("", strip_html(text))
        text = latex_to_text(text, drop_braces=drop_braces)
    text = " ".join(text.split())
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)
