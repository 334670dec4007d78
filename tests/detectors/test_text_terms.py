"""Term lists and matching for the text detector: pure functions, no OCR."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil import taxonomy
from vigil.detectors.text_terms import (
    CATEGORY_LABELS,
    DEFAULT_TERMS,
    Term,
    compile_term,
    compile_terms,
    find_terms,
    fold,
    load_term_lists,
    read_term_file,
)
from vigil.errors import DetectorFailed


@pytest.fixture(scope="module")
def terms() -> list[Term]:
    return compile_terms(load_term_lists())


def found(line: str, terms: list[Term]) -> list[tuple[str, str]]:
    """(category, text as written) of each match."""
    return [(match.category, match.text) for match in find_terms(line, terms)]


def test_every_category_is_a_level_2_label_under_offensive_text() -> None:
    for label in CATEGORY_LABELS.values():
        assert taxonomy.get(label).parent == taxonomy.TEXT_TOP
    assert set(DEFAULT_TERMS) == set(CATEGORY_LABELS)


def test_every_default_term_compiles_and_matches_itself(terms: list[Term]) -> None:
    for category, entries in DEFAULT_TERMS.items():
        for entry in entries:
            plain = entry.rstrip("*")
            assert (category, plain) in found(plain, terms), entry


@pytest.mark.parametrize(
    ("line", "category", "written"),
    [
        ("FUCK", "profanity", "FUCK"),
        ("what the Fück", "profanity", "Fück"),
        ("sieg heil!", "extremist", "sieg heil"),
        ("the 1488 crew", "extremist", "1488"),
        ("WHITE-POWER", "extremist", "WHITE-POWER"),
        ("blood  and   soil", "extremist", "blood  and   soil"),
        ("buy weed here", "drug_sales", "buy weed"),
        ("weedforsale", "drug_sales", "weedforsale"),
        ("cocaine", "drug_sales", "cocaine"),
        ("you bitches", "profanity", "bitches"),
        ("fuckyou", "profanity", "fuckyou"),
        ("motherfucker", "profanity", "motherfucker"),
        ("sand nigger", "hate_speech", "sand nigger"),
    ],
)
def test_plain_matches(line: str, category: str, written: str, terms: list[Term]) -> None:
    assert (category, written) in found(line, terms)


@pytest.mark.parametrize(
    ("line", "category", "written"),
    [
        ("w33d f0r sale", "drug_sales", "w33d f0r sale"),
        ("$h!t", "profanity", "$h!t"),
        ("5h1t happens", "profanity", "5h1t"),
        ("fuuuuck", "profanity", "fuuuuck"),
        ("f*ck off", "profanity", "f*ck"),
        ("fvck", "profanity", "fvck"),
        ("ni99er", "hate_speech", "ni99er"),
        ("@sshole", "profanity", "@sshole"),
        ("x4n4x for sale", "drug_sales", "x4n4x for sale"),
        ("s1eg he1l", "extremist", "s1eg he1l"),
    ],
)
def test_leetspeak_and_repeated_letters(
    line: str, category: str, written: str, terms: list[Term]
) -> None:
    [match] = [m for m in find_terms(line, terms) if m.category == category]
    assert match.text == written
    assert not match.exact


@pytest.mark.parametrize("line", ["f.u.c.k", "f-u-c-k", "f_u_c_k", "f u c k", "F.U.C.K."])
def test_letters_joined_or_spaced_out(line: str, terms: list[Term]) -> None:
    [match] = find_terms(line, terms)
    assert match.category == "profanity"
    assert match.exact


@pytest.mark.parametrize(
    "line",
    [
        "glass class assignment",
        "Scunthorpe United",
        "assassin passion bass",
        "a cocktail and a hancock",
        "Bob's pic of it",
        "it's hit after hit",
        "the Niger river",
        "weed control for the garden",
        "coke zero",
        "buy weedkiller",
        "plug it in",
        "lean on me",
        "molly is my sister",
        "I saw 88 birds in 1988",
        "spice rack",
        "this is a classic",
        "(rap music)",
        "hello hitler",
        "shitake",
        "dickens",
    ],
)
def test_innocent_lines_match_nothing(line: str, terms: list[Term]) -> None:
    assert found(line, terms) == []


def test_overlapping_matches_of_a_category_keep_the_longest(terms: list[Term]) -> None:
    assert found("sand nigger", terms) == [("hate_speech", "sand nigger")]
    assert found("shit and bullshit", terms) == [
        ("profanity", "shit"),
        ("profanity", "bullshit"),
    ]


def test_a_match_reports_its_position_in_the_line(terms: list[Term]) -> None:
    [match] = find_terms("oh FÜCK this", terms)
    assert (match.start, match.end, match.text, match.label) == (3, 7, "FÜCK", "Profanity")


def test_fold_keeps_the_origin_of_each_character() -> None:
    assert fold("Straße é") == ("strasse e", [0, 1, 2, 3, 4, 4, 5, 6, 7])


def test_an_empty_term_is_refused() -> None:
    with pytest.raises(DetectorFailed, match="empty term"):
        compile_term("profanity", " * ")


def test_a_prefix_term_matches_longer_words_but_not_inside_them() -> None:
    term = compile_term("profanity", "frak*")
    assert [m.text for m in find_terms("frakking fraks unfrak", [term])] == ["frakking", "fraks"]


def test_read_term_file_skips_comments_and_blanks(tmp_path: Path) -> None:
    path = tmp_path / "profanity.txt"
    path.write_text("# my list\nfrak\n\n  smeg  # from Red Dwarf\n#gone\n", encoding="utf-8")
    assert read_term_file(path) == ["frak", "smeg"]


def test_a_terms_dir_file_replaces_that_category_only(tmp_path: Path) -> None:
    (tmp_path / "profanity.txt").write_text("frak\n", encoding="utf-8")
    lists = load_term_lists(tmp_path)
    assert lists["profanity"] == ["frak"]
    assert lists["drug_sales"] == list(DEFAULT_TERMS["drug_sales"])
    terms = compile_terms(lists)
    assert found("frak this shit", terms) == [("profanity", "frak")]


def test_extra_terms_add_to_a_list(tmp_path: Path) -> None:
    (tmp_path / "hate_speech.txt").write_text("# empty on purpose\n", encoding="utf-8")
    lists = load_term_lists(tmp_path, {"hate_speech": ["grox"], "profanity": ["smeg"]})
    assert lists["hate_speech"] == ["grox"]
    assert lists["profanity"][-1] == "smeg"
    assert found("smeg the grox", compile_terms(lists)) == [
        ("profanity", "smeg"),
        ("hate_speech", "grox"),
    ]


def test_an_unknown_category_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "insults.txt").write_text("frak\n", encoding="utf-8")
    with pytest.raises(DetectorFailed, match=r"'insults'.*extremist, hate_speech"):
        load_term_lists(tmp_path)


def test_an_unknown_extra_terms_category_is_refused() -> None:
    with pytest.raises(DetectorFailed, match="'insults' in the extra_terms option"):
        load_term_lists(None, {"insults": ["frak"]})


def test_extra_terms_must_be_lists_of_strings() -> None:
    with pytest.raises(DetectorFailed, match="list of strings"):
        load_term_lists(None, {"profanity": "frak"})


def test_a_missing_terms_dir_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DetectorFailed, match="not a directory"):
        load_term_lists(tmp_path / "nowhere")


def test_an_unreadable_term_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "profanity.txt").write_bytes(b"\xff\xfe\xfa")
    with pytest.raises(DetectorFailed, match="Could not read the term list"):
        load_term_lists(tmp_path)
