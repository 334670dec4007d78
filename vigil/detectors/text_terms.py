"""Term lists for the text detector and matching them in lines of OCR text (docs/text.md).

No OCR here: pure functions from lines of text to matches. A term matches as a whole word,
case-insensitively and ignoring accents, tolerating leetspeak (``w33d``, ``$h!t``), repeated
letters (``fuuuck``), punctuation between letters (``f.u.c.k``, ``f*ck``), letters spaced out
(``f u c k``) and an ``s``/``es`` plural. A term ending in ``*`` also matches any word it starts
(``fuck*``: ``fucking``, ``fuckyou``). The words of a phrase may be run together, as OCR
sometimes does (``weedforsale``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from vigil.errors import DetectorFailed

# The categories: the name of a term-list file (``<category>.txt``) -> the taxonomy label.
CATEGORY_LABELS: dict[str, str] = {
    "extremist": "Extremist Text",
    "hate_speech": "Hate Speech",
    "drug_sales": "Drug Sales",
    "profanity": "Profanity",
}

# Drug names that are also ordinary words (or brands) count only in a selling phrase.
_AMBIGUOUS_DRUGS = ("weed", "coke", "molly", "lean", "crack", "ice", "acid", "pills", "kush")
_SELLING = ("{} for sale", "buy {}", "selling {}", "cheap {}", "{} delivery", "{} plug")

DEFAULT_TERMS: dict[str, tuple[str, ...]] = {
    "extremist": (
        "sieg heil",
        "heil hitler",
        "1488",
        "14/88",
        "14 words",
        "hh88",
        "white power",
        "white pride world wide",
        "blood and soil",
        "rahowa",
        "racial holy war",
        "zog",
        "white genocide",
        "gas the jews",
        "kill all jews",
        "death to jews",
        "jews will not replace us",
        "you will not replace us",
        "race war now",
        "day of the rope",
        "totenkopf",
        "卐",
        "ϟϟ",
    ),
    "hate_speech": (
        "nigger",
        "nigga",
        "niggaz",
        "sand nigger",
        "faggot",
        "fag",
        "dyke",
        "tranny",
        "kike",
        "kyke",
        "spic",
        "wetback",
        "beaner",
        "chink",
        "gook",
        "zipperhead",
        "raghead",
        "towelhead",
        "paki",
        "jigaboo",
        "porch monkey",
        "retard",
        "retarded",
        "gyppo",
        "pikey",
    ),
    "drug_sales": (
        *(phrase.format(drug) for drug in _AMBIGUOUS_DRUGS for phrase in _SELLING),
        "cocaine",
        "mdma",
        "xanax",
        "xanax for sale",
        "fentanyl",
        "heroin",
        "ketamine",
        "methamphetamine",
        "crystal meth",
        "oxycodone",
        "oxycontin",
        "percocet",
        "adderall for sale",
        "lsd tabs",
        "shrooms",
        "magic mushrooms for sale",
        "420 friendly",
        "dm for menu",
        "menu in bio",
        "plug in bio",
        "drug menu",
    ),
    "profanity": (
        "fuck*",
        "motherfuck*",
        "fck",
        "fuk",
        "wtf",
        "stfu",
        "shit",
        "shitty",
        "shithead",
        "bullshit",
        "bitch*",
        "ass",
        "asshole",
        "arse",
        "arsehole",
        "jackass",
        "dumbass",
        "dickhead",
        "cunt",
        "twat",
        "wanker",
        "bollocks",
        "bastard",
        "piss",
        "pissed",
        "damn",
        "goddamn",
        "crap",
        "cocksucker",
        "douchebag",
        "slut",
        "whore",
    ),
}

# What each letter of a term may be written as in the image (leetspeak, OCR confusions).
_LEET: dict[str, str] = {
    "a": "a4@",
    "b": "b8",
    "e": "e3€",
    "g": "g9",
    "i": "i1!|l",
    "l": "l1|i",
    "o": "o0",
    "s": "s5$",
    "t": "t7+",
    "u": "uv",
}
_VOWELS = "aeiou"  # censored spellings stand a "*" for a vowel: f*ck, sh*t
_JOINERS = r"._\-*~"  # characters between the letters of a word that are ignored
_ALNUM = "a-z0-9"


@dataclass(frozen=True)
class Term:
    """One entry of a term list, compiled. ``prefix``: it ended in ``*``."""

    category: str
    term: str
    prefix: bool
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class TermMatch:
    """A term found in a line: ``text`` is the span as written (``start``:``end`` of the line);
    ``exact`` is false when it took leetspeak or repeated letters to match."""

    category: str
    term: str
    text: str
    start: int
    end: int
    exact: bool

    @property
    def label(self) -> str:
        return CATEGORY_LABELS[self.category]


def fold(text: str) -> tuple[str, list[int]]:
    """``text`` lower-cased without accents, and for each character of it the index of the
    character of ``text`` it came from (so a match maps back to what was written)."""
    folded: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        plain = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", char))
        for part in "".join(c for c in plain if not unicodedata.combining(c)).casefold():
            folded.append(part)
            origin.append(index)
    return "".join(folded), origin


def _letter(char: str, first: bool) -> str:
    """The pattern for one character of a term: its written forms, repeatable."""
    forms = _LEET.get(char, char)
    if char in _VOWELS and not first:
        forms += "*"
    if len(forms) == 1:
        return f"(?:{re.escape(forms)})+"
    return "[" + "".join(re.escape(c) for c in forms) + "]+"


def _word(word: str) -> str:
    """A word either written together (joiners allowed) or spaced out letter by letter."""
    letters = [_letter(char, i == 0) for i, char in enumerate(word)]
    together = f"[{_JOINERS}]?".join(letters)
    if len(letters) < 2:
        return together
    spaced = f"[\\s{_JOINERS}]{{1,2}}".join(letters)
    return f"(?:{together}|{spaced})"


def compile_term(category: str, term: str) -> Term:
    """A list entry as a ``Term``; ``DetectorFailed`` for an empty one."""
    folded = fold(term.strip())[0]
    prefix = folded.endswith("*")
    words = folded.rstrip("*").split()
    if not words:
        raise DetectorFailed(f"An empty term in the {category!r} term list.")
    body = f"[^{_ALNUM}]{{0,3}}".join(_word(word) for word in words)
    end = f"[{_ALNUM}]*" if prefix else f"(?:e?s)?(?![{_ALNUM}])"
    pattern = re.compile(f"(?<![{_ALNUM}]){body}{end}")
    return Term(category, " ".join(words), prefix, pattern)


def compile_terms(lists: Mapping[str, Iterable[str]]) -> list[Term]:
    """Every entry of every category's list, compiled (duplicates dropped)."""
    terms: list[Term] = []
    for category, entries in lists.items():
        for entry in dict.fromkeys(entries):
            terms.append(compile_term(category, entry))
    return terms


def _squash(text: str) -> str:
    return re.sub(f"[^{_ALNUM}\\u0080-\\uffff]", "", text)


def _is_exact(term: Term, written: str) -> bool:
    """Whether the match is the term spelt out plainly (give or take joiners and a suffix)."""
    return _squash(written).startswith(_squash(term.term))


def find_terms(line: str, terms: Sequence[Term]) -> list[TermMatch]:
    """Every term found in ``line``, in order of position; overlapping matches of the same
    category keep the longest (``sand nigger`` rather than also ``nigger``)."""
    folded, origin = fold(line)
    found: list[TermMatch] = []
    for term in terms:
        for hit in term.pattern.finditer(folded):
            if hit.end() == hit.start():
                continue
            start, end = origin[hit.start()], origin[hit.end() - 1] + 1
            written = line[start:end]
            exact = _is_exact(term, hit.group())
            found.append(TermMatch(term.category, term.term, written, start, end, exact))
    return _drop_overlaps(found)


def _drop_overlaps(matches: list[TermMatch]) -> list[TermMatch]:
    kept: list[TermMatch] = []
    for match in sorted(matches, key=lambda m: (m.start, m.start - m.end)):
        if any(k.category == match.category and _overlaps(k, match) for k in kept):
            continue
        kept.append(match)
    return kept


def _overlaps(a: TermMatch, b: TermMatch) -> bool:
    return a.start < b.end and b.start < a.end


def read_term_file(path: Path) -> list[str]:
    """The terms of one file: one a line, ``#`` starts a comment, blank lines ignored."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DetectorFailed(f"Could not read the term list {path}: {exc}") from exc
    return [t for t in (line.split("#", 1)[0].strip() for line in lines) if t]


def _check_category(category: str, where: str) -> None:
    if category not in CATEGORY_LABELS:
        known = ", ".join(CATEGORY_LABELS)
        raise DetectorFailed(
            f"Unknown term category {category!r} in {where}; the categories are: {known}."
        )


def load_term_lists(
    terms_dir: str | Path | None = None,
    extra_terms: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, list[str]]:
    """The term list of each category: the default, or ``<terms_dir>/<category>.txt`` in its
    place where that file exists, plus that category's ``extra_terms``."""
    lists = {category: list(terms) for category, terms in DEFAULT_TERMS.items()}
    if terms_dir is not None:
        lists.update(_read_terms_dir(Path(terms_dir)))
    for category, extra in (extra_terms or {}).items():
        _check_category(category, "the extra_terms option")
        if isinstance(extra, str) or not all(isinstance(t, str) for t in extra):
            raise DetectorFailed(f"extra_terms[{category!r}] must be a list of strings.")
        lists[category] = [*lists[category], *extra]
    return lists


def _read_terms_dir(directory: Path) -> dict[str, list[str]]:
    if not directory.is_dir():
        raise DetectorFailed(f"The terms_dir {directory} is not a directory.")
    found: dict[str, list[str]] = {}
    for path in sorted(directory.glob("*.txt")):
        _check_category(path.stem, f"terms_dir ({path.name})")
        found[path.stem] = read_term_file(path)
    return found
