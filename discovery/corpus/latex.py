"""LaTeX to Unicode plain text, for titles and abstracts (arXiv metadata, BibTeX, papers' own
LaTeX leaking into conference sites). Nothing is interpreted beyond a fixed table: accents,
symbols, font commands (their argument is kept), citations and labels (dropped), math mode
($...$, \\(...\\), \\[...\\]: the delimiters go, sub- and superscript braces become plain or
parenthesised text). Unknown commands lose their backslash ('\\log' -> 'log') and keep their
argument ('\\foo{x}' -> 'x')."""
from __future__ import annotations

import re
import unicodedata

GREEK = (
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu "
    " xi pi rho sigma tau upsilon phi chi psi omega"
)
_GREEK_LOWER = dict(zip(GREEK.split(), "αβγδεζηθικλμνξπρστυφχψω"))
_GREEK_UPPER = {"Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ",
                "Upsilon": "Υ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω"}
_GREEK_VAR = {"varepsilon": "ε", "vartheta": "ϑ", "varpi": "ϖ", "varrho": "ϱ", "varsigma": "ς", "varphi": "φ"}

SYMBOLS = {
    **_GREEK_LOWER, **_GREEK_UPPER, **_GREEK_VAR,
    "leq": "≤", "le": "≤", "geq": "≥", "ge": "≥", "neq": "≠", "ne": "≠", "approx": "≈", "sim": "∼",
    "simeq": "≃", "equiv": "≡", "propto": "∝", "ll": "≪", "gg": "≫", "times": "×", "cdot": "·",
    "pm": "±", "mp": "∓", "div": "÷", "circ": "∘", "otimes": "⊗", "oplus": "⊕", "ast": "∗", "star": "⋆",
    "to": "→", "rightarrow": "→", "leftarrow": "←", "Rightarrow": "⇒", "Leftarrow": "⇐",
    "leftrightarrow": "↔", "Leftrightarrow": "⇔", "iff": "⇔", "implies": "⇒", "mapsto": "↦",
    "in": "∈", "notin": "∉", "subset": "⊂", "subseteq": "⊆", "supset": "⊃", "supseteq": "⊇",
    "cup": "∪", "cap": "∩", "emptyset": "∅", "varnothing": "∅", "setminus": "∖", "forall": "∀",
    "exists": "∃", "neg": "¬", "land": "∧", "lor": "∨", "wedge": "∧", "vee": "∨", "infty": "∞",
    "partial": "∂", "nabla": "∇", "sum": "∑", "prod": "∏", "int": "∫", "ell": "ℓ", "hbar": "ℏ",
    "top": "⊤", "bot": "⊥", "perp": "⊥", "dagger": "†", "ddagger": "‡", "ldots": "…", "cdots": "⋯",
    "dots": "…", "prime": "′", "langle": "⟨", "rangle": "⟩", "lfloor": "⌊", "rfloor": "⌋",
    "lceil": "⌈", "rceil": "⌉", "mid": "|", "colon": ":", "sqrt": "√", "Re": "ℜ", "Im": "ℑ",
    "textendash": "–", "textemdash": "—", "ss": "ß", "o": "ø", "O": "Ø", "ae": "æ", "AE": "Æ",
    "oe": "œ", "OE": "Œ", "aa": "å", "AA": "Å", "l": "ł", "L": "Ł", "i": "ı", "j": "ȷ",
    "copyright": "©", "S": "§", "P": "¶", "dag": "†", "ddag": "‡", "textbackslash": "\\",
    "LaTeX": "LaTeX", "TeX": "TeX", "quad": " ", "qquad": " ", "left": "", "right": "",
    "big": "", "Big": "", "bigg": "", "Bigg": "", "displaystyle": "", "limits": "", "nolimits": "",
}
# Commands that only style their argument ("\emph{x}" -> "x"); bare, as switches, they vanish.
FONTS = {
    "emph", "textit", "textbf", "textsc", "texttt", "textrm", "textsf", "textup", "textnormal",
    "textmd", "text", "mathrm", "mathbf", "mathit", "mathsf", "mathtt", "mathcal", "mathbb", "mathfrak",
    "mathscr", "boldsymbol", "bm", "operatorname", "mbox", "hbox", "underline", "overline", "hat",
    "tilde", "bar", "vec", "dot", "ddot", "widehat", "widetilde", "check", "breve", "url", "it", "bf",
    "rm", "sf", "tt", "em", "sc", "cal"
}
# Commands dropped together with their argument: references that mean nothing outside the paper.
DROP_ARGUMENT = {
    "cite", "citep", "citet", "citealp", "citeauthor", "citeyear", "ref", "eqref", "autoref", "cref",
    "Cref", "label", "footnote", "thanks", "begin", "end", "vspace", "hspace"
}
# Font commands glued to the next word when a pipeline ate the braces ("\emphcurriculum").
_GLUED_FONT = re.compile(r"\\(?:emph|textit|textbf|mathcal|mathbb|mathrm|mathbf)(?=[A-Za-z])")

_ACCENTS = {'"': "\u0308", "'": "\u0301", "`": "\u0300", "^": "\u0302", "~": "\u0303", "=": "\u0304",
            ".": "\u0307", "u": "\u0306", "v": "\u030c", "H": "\u030b", "c": "\u0327", "k": "\u0328",
            "r": "\u030a", "d": "\u0323", "b": "\u0331"}
_SYMBOL_ACCENT = re.compile(r"""\\(["'`^~=.])\s*(?:\{\s*\\?([A-Za-z])\s*\}|\\?([A-Za-z]))""")
_LETTER_ACCENT = re.compile(r"\\([uvHckrdb])(?:\s*\{\s*\\?([A-Za-z])\s*\}|\s+\\?([A-Za-z]))")
_ESCAPES = {"%": "%", "&": "&", "_": "_", "#": "#", "$": "$", "{": "\x01", "}": "\x02", " ": " ",
            ",": " ", ";": " ", ":": " ", "!": "", "|": "‖"}
_ESCAPE = re.compile(r"\\([%&_#${} ,;:!|])")
# Display math is bounded in length so that an unclosed '\(' cannot make the search quadratic.
_MATH = re.compile(r"\$\$(.{1,500}?)\$\$|\\\((.{1,500}?)\\\)|\\\[(.{1,500}?)\\\]|\$(?!\s)([^$]+?)(?<![\s\\])\$(?!\d)",
                   re.DOTALL)
_COMMAND = re.compile(r"\\([A-Za-z]+)\*?(\s*)")
_COMMAND_ARG = re.compile(r"\\([A-Za-z]+)\*?\s*\{([^{}]*)\}")
# 'as in \cite{x}, we' -> 'as in, we' (an optional [p. 3] included)
_DROPPED = re.compile(r"(?<!\s)\s*\\(?:" + "|".join(sorted(DROP_ARGUMENT)) + r")\*?\s*(?:\[[^\]]*\]\s*)?\{[^{}]*\}")
_SCRIPT = re.compile(r"([\^_])\{([^{}]*)\}")
_FRAC = re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
_SQRT = re.compile(r"\\sqrt\s*\{([^{}]*)\}")
_BRACED_WORD = re.compile(r"\{([^{}\s,]*)\}")
_SWITCH_GROUP = re.compile(r"\{\\(?:em|it|bf|sl|sc|rm|sf|tt|small|large)\s+([^{}]*)\}")  # '{\em a b}' -> 'a b'


def _accent(match: re.Match) -> str:
    letter = match.group(2) or match.group(3)
    letter = {"ı": "i", "ȷ": "j"}.get(letter, letter)
    return unicodedata.normalize("NFC", letter + _ACCENTS[match.group(1)])


def _with_argument(match: re.Match) -> str:
    """An innermost '\\name{arg}': a symbol stays before its argument; any other command leaves
    just the argument (font commands, and unknown ones, whose argument is most likely text)."""
    return SYMBOLS.get(match.group(1), "") + match.group(2)


def _bare(match: re.Match) -> str:
    name = match.group(1)
    if name in FONTS or name in DROP_ARGUMENT:
        return ""  # an old-style switch: '{\\em text}'
    word = SYMBOLS.get(name, name)
    return word + (" " if match.group(2) and word else "")


def _commands(text: str) -> str:
    """Commands resolved innermost first, by regular expressions only (no recursion, no scanning
    loop), so a hostile abstract costs linear time; nesting deeper than 4 keeps its braces."""
    for _ in range(4):
        text, dropped = _DROPPED.subn("", text)
        text, kept = _COMMAND_ARG.subn(_with_argument, text)
        if not dropped + kept:
            break
    return _COMMAND.sub(_bare, text)


def _script(match: re.Match) -> str:
    return match.group(1) + _group(match.group(2))


def _group(text: str) -> str:
    text = text.strip()
    return text if len(text) <= 1 or text.isalnum() else f"({text})"


def _frac(match: re.Match) -> str:
    return f"{_group(match.group(1))}/{_group(match.group(2))}"


def _math(match: re.Match) -> str:
    body = next(g for g in match.groups() if g is not None)
    body = _FRAC.sub(_frac, body)
    body = _SQRT.sub(lambda m: "√" + _group(m.group(1)), body)
    body = _commands(body)  # first, so that '^{\\ast}' is the one symbol '^∗'
    for _ in range(3):  # nested scripts: x^{y_{i}}
        body = _SCRIPT.sub(_script, body)
    return body.replace("{", "").replace("}", "")


def latex_to_text(text: str, drop_braces: bool = False) -> str:
    """Plain text from LaTeX-flavoured text. Outside math, a brace group is kept when it holds a
    space or a comma ('{1, ..., n}' is a set, '{BERT}' is case protection); with drop_braces
    (BibTeX, where braces are always grouping) every unescaped brace goes."""
    text = re.sub(r"\\\\(?=[A-Za-z])", r"\\", text)  # '\\beta': an escaping pipeline doubled it
    text = re.sub(r"\\\\\s*", " ", text)  # a LaTeX line break
    text = _ESCAPE.sub(lambda m: _ESCAPES[m.group(1)], text)
    text = _SYMBOL_ACCENT.sub(_accent, text)
    text = _LETTER_ACCENT.sub(_accent, text)
    text = _GLUED_FONT.sub("", text)
    text = _SWITCH_GROUP.sub(r"\1", text)
    text = _MATH.sub(_math, text)
    text = _FRAC.sub(_frac, text)
    text = _commands(text)
    text = _SCRIPT.sub(_script, text)
    text = re.sub(r"(?<=[A-Za-z.])~(?=[A-Za-z0-9])", " ", text)  # a tie: 'Fig.~3', 'et~al.'
    text = text.replace("---", "—").replace("--", "–").replace("``", "“").replace("''", "”")
    if drop_braces:
        text = text.replace("{", "").replace("}", "")
    else:
        for _ in range(3):
            text = _BRACED_WORD.sub(r"\1", text)
    return text.replace("\x01", "{").replace("\x02", "}")
