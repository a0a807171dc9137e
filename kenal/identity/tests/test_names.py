"""Indonesian-aware name rules: canonical tokens, phonetic codes and token-set similarity."""

from __future__ import annotations

import pytest

from kenal.identity.names import (
    NameAgreement,
    joined_forms,
    name_code,
    name_similarity,
    name_tokens,
    token_codes,
)


def similarity(left: str, right: str) -> NameAgreement:
    return name_similarity(name_tokens(left), name_tokens(right))


def test_tokens_are_lower_case_without_punctuation_in_written_order() -> None:
    assert name_tokens("  Wahyu   ANGGORO-Putro ") == ("wahyu", "anggoro", "putro")


def test_apostrophes_join_and_accents_are_removed() -> None:
    assert name_tokens("Ma'ruf Amin") == ("maruf", "amin")
    assert name_tokens("José Müller") == name_tokens("Jose Muller") == ("jose", "muller")


@pytest.mark.parametrize(
    "title",
    [
        "H.", "Hj.", "Haji", "Hajjah", "Dr.", "dr.", "Drs.", "Dra.", "Ir.", "Prof.", "Bapak",
        "Bpk.", "Pak", "Ibu", "Bu", "Sdr.", "Sdri.", "Tn.", "Ny.", "Nn.", "Mr", "Mrs", "Ms.",
        "Miss",
    ],
)  # fmt: skip
def test_leading_title_is_removed(title: str) -> None:
    assert name_tokens(f"{title} Siti Aminah") == ("siti", "aminah")


def test_stacked_titles_are_removed_but_a_later_h_is_an_initial() -> None:
    assert name_tokens("Bapak H. Ir. Budi Santoso") == ("budi", "santoso")
    assert name_tokens("Budi H. Santoso") == ("budi", "h", "santoso")


def test_a_name_of_titles_only_has_no_tokens() -> None:
    assert name_tokens("Ibu") == ()
    assert name_tokens("Bapak H.") == ()


@pytest.mark.parametrize(
    "degrees",
    [
        "S.E.", "SE", "S.H.", "S.Kom.", "S.T.", "S.Pd.", "S.Sos.", "S.Ked.", "M.M.", "M.Si.",
        "M.Kom.", "M.T.", "M.Pd.", "MBA", "Amd", "A.Md.", "Ph.D.", "B.Sc", "S.E., M.M.",
    ],
)  # fmt: skip
def test_degrees_after_a_comma_are_removed(degrees: str) -> None:
    assert name_tokens(f"Rina, {degrees}") == ("rina",)


def test_bare_degree_at_the_end_is_removed_only_after_two_other_tokens() -> None:
    assert name_tokens("Budi Santoso SE MM") == ("budi", "santoso")
    assert name_tokens("Budi Se") == ("budi", "se")
    assert name_tokens("Se Budi Santoso") == ("se", "budi", "santoso")


def test_dotted_degree_is_removed_after_the_first_token() -> None:
    assert name_tokens("Budi S.Kom.") == ("budi",)


def test_a_comma_can_separate_family_and_given_name() -> None:
    assert name_tokens("Santoso, Budi") == ("santoso", "budi")


@pytest.mark.parametrize(
    "written",
    [
        "Muhammad", "Muhamad", "Mohammad", "Mohamad", "Mohammed", "Muhammed", "Mochammad",
        "Mochamad", "Mokhammad", "Muchammad", "Moh.", "Moch.", "Muh.", "Mhd.", "Md.", "M.",
    ],
)  # fmt: skip
def test_muhammad_variants_are_one_token(written: str) -> None:
    assert name_tokens(f"{written} Yusuf") == ("muhammad", "yusuf")


def test_initial_m_is_muhammad_only_as_first_of_several_tokens() -> None:
    assert name_tokens("M.Rizky Pratama") == ("muhammad", "rizky", "pratama")
    assert name_tokens("H.M. Yusuf") == ("muhammad", "yusuf")
    assert name_tokens("Rizky M.") == ("rizky", "m")
    assert name_tokens("M.") == ("m",)


@pytest.mark.parametrize("written", ["Achmad", "Akhmad", "Ahmad", "Ahmat"])
def test_ahmad_variants_are_one_token(written: str) -> None:
    assert name_tokens(f"{written} Dahlan") == ("ahmad", "dahlan")


def test_abdul_variants_are_one_token_and_nur_stays_apart_from_nurul() -> None:
    assert name_tokens("Abd.Rahman") == name_tokens("Abdoel Rahman") == ("abdul", "rahman")
    assert name_tokens("Noor Nurul Nur") == ("nur", "nurul", "nur")


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("Soedjatmoko", "Sujatmoko"),
        ("Djoko", "Joko"),
        ("Sjahrir", "Syahrir"),
        ("Njoman", "Nyoman"),
        ("Chairul", "Khairul"),
        ("Tjipto", "Cipto"),
        ("Pandji", "Panji"),
    ],
)
def test_old_spelling_gives_the_new_canonical_token(old: str, new: str) -> None:
    assert name_tokens(old) == name_tokens(new)
    assert similarity(old, new).exact_tokens == 1


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("Tjahjono", "Cahyono"),
        ("Nurhajati", "Nurhayati"),
        ("Djoko", "Yoko"),
        ("Ahmad", "Amad"),
        ("Hassan", "Hasan"),
        ("Machmud", "Mahmud"),
        ("Dewie", "Dewi"),
        ("Sylvia", "Silvia"),
        ("Rizky", "Rizki"),
        ("Ramadhan", "Ramadan"),
        ("Smith", "Smyth"),
    ],
)
def test_spelling_variants_share_a_phonetic_code(left: str, right: str) -> None:
    assert token_codes(left) == token_codes(right)
    agreement = similarity(left, right)
    assert (agreement.score, agreement.phonetic_tokens) == (0.95, 1)


def test_j_to_y_is_left_to_the_phonetic_code() -> None:
    assert name_tokens("Nurhajati") == ("nurhajati",)


def test_name_code_is_stable() -> None:
    codes = {
        "muhammad": "muhamad",
        "cahjono": "cahiono",
        "khairul": "hairul",
        "yanti": "yanti",
        "dewie": "dewi",
        "ahmad": "amad",
        "vivie": "fifi",
        "qomariah": "komaria",
        "fauziah": "fausia",
        "sophie": "sofi",
        "lestarie": "lestari",
        "bude": "bude",
    }
    assert {token: name_code(token) for token in codes} == codes
    assert name_code("cahjono") == name_code("cahjono")


def test_one_letter_typo_scores_close() -> None:
    agreement = similarity("Budi Santoso", "Budi Santosa")
    assert agreement.score >= 0.95
    assert (agreement.exact_tokens, agreement.fuzzy_tokens) == (1, 1)


@pytest.mark.parametrize(("left", "right"), [("jonathon", "jonathan"), ("Wahyuni", "Wahyuno")])
def test_fuzzy_token_scores_jaro_winkler(left: str, right: str) -> None:
    agreement = similarity(left, right)
    assert 0.9 < agreement.score < 1.0
    assert agreement.fuzzy_tokens == 1


def test_initial_and_spelling_variants_together_score_high() -> None:
    agreement = similarity("M. Rizky Pratama", "Muhammad Rizki Pratama")
    assert agreement.score >= 0.97
    assert (agreement.exact_tokens, agreement.phonetic_tokens) == (2, 1)


def test_initial_matches_a_token_with_its_letter_but_never_exactly() -> None:
    agreement = similarity("Budi S.", "Budi Santoso")
    assert agreement.score == pytest.approx((1.0 + 0.85) / 2)
    assert (agreement.exact_tokens, agreement.fuzzy_tokens) == (1, 1)
    both_initials = similarity("Budi S.", "Budi S.")
    assert (both_initials.exact_tokens, both_initials.fuzzy_tokens) == (1, 1)
    assert similarity("Budi S.", "Budi Wibowo").score == 0.5


def test_mononym_against_two_tokens_is_penalised_mildly() -> None:
    agreement = similarity("Sutrisno", "Sutrisno Wibowo")
    assert 0.8 <= agreement.score <= 0.9
    assert agreement.unmatched == 1


def test_swapped_order_scores_high_but_is_reported() -> None:
    swapped = similarity("Dewi Lestari", "Lestari Dewi")
    assert swapped.score == 1.0
    assert swapped.same_order is False
    assert similarity("Dewi Lestari", "Dewi Lestari").same_order is True


def test_a_repeated_token_is_aligned_in_order() -> None:
    agreement = similarity("Sari Dewi Sari", "Dewi Sari")
    assert (agreement.exact_tokens, agreement.unmatched) == (2, 1)
    assert agreement.same_order is True


def test_one_shared_common_token_scores_low() -> None:
    agreement = similarity("Siti Nurhaliza", "Siti Aminah")
    assert 0.45 <= agreement.score <= 0.6
    assert (agreement.exact_tokens, agreement.unmatched) == (1, 1)


@pytest.mark.parametrize(
    ("left", "right", "unmatched"),
    [("Budi Santoso", "Agus Wijaya", 2), ("Adi", "Ali", 1), ("Rina Wati", "Yohanes Kurniawan", 2)],
)
def test_unrelated_names_score_nothing(left: str, right: str, unmatched: int) -> None:
    assert similarity(left, right) == NameAgreement(0.0, 0, 0, 0, 0, unmatched, True)


def test_empty_names_score_zero() -> None:
    assert name_similarity((), ()).score == 0.0
    assert similarity("", "Budi Santoso") == NameAgreement(0.0, 0, 0, 0, 0, 2, True)
    assert similarity("Ibu", "Ibu").score == 0.0


def test_neighbouring_words_can_be_read_as_one() -> None:
    assert joined_forms(name_tokens("Siti Nur Hayati")) == [
        (("sitinur", "hayati"), "sitinur"),
        (("siti", "nurhayati"), "nurhayati"),
    ]
    # Old spelling across the join reads as in the word written whole.
    ((joined, word),) = joined_forms(name_tokens("Joel McGilc hrist"))[1:]
    assert word == name_tokens("McGilchrist")[0] == "mcgilkhrist"
    assert joined == name_tokens("Joel McGilchrist")


def test_initials_and_mononyms_are_never_joined() -> None:
    assert joined_forms(name_tokens("Budi S. Santoso")) == []
    assert joined_forms(name_tokens("Sukarno")) == []


def test_the_aligned_words_are_listed_without_initials() -> None:
    agreement = similarity("Budi S. Santosa", "Budi Santoso Wibowo")
    assert agreement.word_pairs == (("budi", "budi"), ("santosa", "santoso"))
