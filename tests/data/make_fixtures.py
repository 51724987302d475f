"""Regenerate the small input fixtures for tests/test_io.py.

Run from the repository root: ``python tests/data/make_fixtures.py``. Every text below is
invented for these tests (no rows of any data set). Output is deterministic, except that XLSX
and Parquet files carry library version strings.
"""

from __future__ import annotations

import io
import json
import random
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pandas as pd

HERE = Path(__file__).parent
BAD = HERE / "bad"

# --- one plain export, written in every format ------------------------------------------------
PLAIN_COLUMNS = ["response_id", "submitted", "channel", "region", "plan", "nps", "comment"]
PLAIN_ROWS = [
    ["00123", "2024-03-01", "web", "North", "Basic", "9", "Great service, fast delivery."],
    ["00124", "2024-03-02", "app", "South", "Pro", "3",
     'The app crashed twice when I tried to pay. "Retry" did nothing.'],
    ["00125", "2024-03-02", "phone", "North", "Basic", "10", "Café staff were lovely – très bien!"],
    ["00126", "2024-03-03", "web", "East", "Pro", "6",
     "Line one of my answer\nLine two: billing was confusing"],
    ["00127", "2024-03-04", "app", "South", "Basic", "7", "It’s fine, I guess. Nothing special."],
    ["00128", "2024-03-05", "web", "East", "Pro", "0", "Never again. Cancelled after two weeks."],
    ["00129", "2024-03-05", "phone", "North", "Basic", "8",
     "Delivery was late; the courier left it in the rain."],
    ["00130", "2024-03-06", "app", "East", "Pro", "9", "Love the new plan | great value for money"],
    ["00131", "2024-03-07", "phone", "South", "Basic", "2",
     "Waited 40 minutes on hold\tand then got cut off"],
    ["00132", "2024-03-08", "web", "North", "Pro", "5", ""],
    ["00133", "2024-03-08", "app", "South", "Basic", "10",
     "Smooth checkout, €5 cheaper than before"],
    ["00134", "2024-03-09", "phone", "East", "Pro", "4",
     "Support said \"we'll call back\" – they didn't."],
]  # fmt: skip

# --- a clothing-review-like table (empty first header: a saved pandas index) -------------------
CLOTHING_HEADER = [
    "", "Clothing ID", "Age", "Title", "Review Text", "Rating", "Recommended IND",
    "Positive Feedback Count", "Division Name", "Department Name", "Class Name",
]  # fmt: skip
_TITLES = [
    "Lovely dress",
    "Runs small",
    "",
    "Perfect fit",
    "Not for me",
    "Great basic",
    "Disappointed",
    "So soft",
    "Beautiful colour",
    "Cheap fabric",
    "",
    "Wardrobe staple",
]
_REVIEWS = [
    "I love this dress, the fabric is soft and it fits true to size.",
    "Ordered my usual size but it was far too tight across the shoulders.",
    "Nice top but the colour was a bit duller than in the photos.",
    "Fits perfectly and the length is just right for petite me.",
    "The cut was unflattering and the material felt scratchy, returned it.",
    "A great basic tee that washes well and keeps its shape.",
    "Seams came apart after one wash, very disappointed with the quality.",
    "",
    "Beautiful colour and drape, I got so many compliments at the wedding.",
    "Fabric is thin and see-through, not worth the price at all.",
    "Comfortable trousers, I bought them in two colours.",
    "Goes with everything in my closet, highly recommend.",
]
_DIV = ["General", "General Petite", "Initmates"]
_DEPT = ["Dresses", "Tops", "Bottoms", "Intimate"]
_CLASS = ["Dresses", "Knits", "Blouses", "Pants", "Lounge"]


def clothing_rows() -> list[list[str]]:
    rows = []
    for i in range(24):
        rating = [5, 2, 4, 5, 1, 5, 2, 3, 5, 1, 4, 5][i % 12]
        rows.append([
            str(i), str(1000 + (i * 7) % 5), str(25 + (i * 3) % 40), _TITLES[i % 12],
            _REVIEWS[i % 12] + ("" if i < 12 or not _REVIEWS[i % 12] else " Bought it again."),
            str(rating), "1" if rating >= 4 else "0", str(i % 6), _DIV[i % 3], _DEPT[i % 4],
            _CLASS[i % 5],
        ])  # fmt: skip
    return rows


# --- Qualtrics: field ids, question texts, ImportId JSON ----------------------------------------
Q_FIELDS = [
    "StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)",
    "Finished", "RecordedDate", "ResponseId", "RecipientLastName", "RecipientFirstName",
    "RecipientEmail", "ExternalReference", "LocationLatitude", "LocationLongitude",
    "DistributionChannel", "UserLanguage", "Q1", "Q2", "Q3", "Q4", "Q5", "Q5_4_TEXT",
]  # fmt: skip
Q_TEXTS = [
    "Start Date", "End Date", "Response Type", "IP Address", "Progress",
    "Duration (in seconds)", "Finished", "Recorded Date", "Response ID", "Recipient Last Name",
    "Recipient First Name", "Recipient Email", "External Data Reference", "Location Latitude",
    "Location Longitude", "Distribution Channel", "User Language",
    "How likely are you to recommend Acme Broadband to a friend or colleague?",
    "Why did you give that score?\nPlease be as specific as possible.",
    "How easy was it to get your issue resolved?",
    "Which region do you live in?",
    "Which plan are you on? - Selected Choice",
    "Which plan are you on? - Other - Text",
]  # fmt: skip
Q_IMPORT = [
    '{"ImportId":"startDate","timeZone":"America/Denver"}',
    '{"ImportId":"endDate","timeZone":"America/Denver"}', '{"ImportId":"status"}',
    '{"ImportId":"ipAddress"}', '{"ImportId":"progress"}', '{"ImportId":"duration"}',
    '{"ImportId":"finished"}', '{"ImportId":"recordedDate","timeZone":"America/Denver"}',
    '{"ImportId":"_recordId"}', '{"ImportId":"recipientLastName"}',
    '{"ImportId":"recipientFirstName"}', '{"ImportId":"recipientEmail"}',
    '{"ImportId":"externalDataReference"}', '{"ImportId":"locationLatitude"}',
    '{"ImportId":"locationLongitude"}', '{"ImportId":"distributionChannel"}',
    '{"ImportId":"userLanguage"}', '{"ImportId":"QID1"}', '{"ImportId":"QID2_TEXT"}',
    '{"ImportId":"QID3"}', '{"ImportId":"QID4"}', '{"ImportId":"QID5"}',
    '{"ImportId":"QID5_4_TEXT"}',
]  # fmt: skip
_WHY = [
    "Installation was quick and the engineer was friendly.",
    "Speeds drop every evening and support keeps blaming my router.",
    "Good value, but the first bill was higher than promised.",
    "Never had a single outage since I joined, really happy.",
    "It took three calls to get my account set up correctly.",
    "",
    "The app makes it easy to check my usage and pay.",
    "Price went up again without any warning.",
]
_REGIONS = ["North", "South", "West", "North", "East", "South", "West", "North"]
_PLANS = [
    "Fibre 100",
    "Fibre 500",
    "Other",
    "Fibre 100",
    "Fibre 500",
    "Fibre 100",
    "Other",
    "Fibre 500",
]


def qualtrics_rows() -> list[list[str]]:
    rows = []
    nps = [9, 3, 7, 10, 2, 8, 9, 4]
    ces = [6, 2, 5, 7, 1, 5, 6, 3]
    for i in range(8):
        day = f"2024-04-{i + 2:02d}"
        rows.append([
            f"{day} 09:{10 + i}:05", f"{day} 09:{14 + i}:41", "0", f"203.0.113.{10 + i}", "100",
            str(200 + 13 * i), "1", f"{day} 09:{14 + i}:42", f"R_{i:02d}aB3c4D5e6F7g8h",
            "", "", "", "", "39.7392", "-104.9903", "anonymous", "EN", str(nps[i]), _WHY[i],
            str(ces[i]), _REGIONS[i], _PLANS[i],
            "Business 1G" if _PLANS[i] == "Other" else "",
        ])  # fmt: skip
    return rows


# --- SurveyMonkey: questions (spanning empty cells), then sub-answers ---------------------------
SM_Q = [
    "Respondent ID", "Collector ID", "Start Date", "End Date", "IP Address", "Email Address",
    "First Name", "Last Name", "Custom Data 1",
    "How likely is it that you would recommend Acme to a friend or colleague?",
    "What is the main reason for your score?",
    "Which region are you in?", "",
    "Overall, how satisfied are you with our support?",
    "Which of these products do you use?", "", "",
]  # fmt: skip
SM_SUB = [
    "",
    "",
    "",
    "",
    "",
    "",
    "",
    "",
    "",
    "Response",
    "Open-Ended Response",
    "Response",
    "Other (please specify)",
    "Response",
    "Broadband",
    "TV",
    "Mobile",
]


def surveymonkey_rows() -> list[list[str]]:
    rows = []
    nps = [10, 6, 8, 1, 9, 7, 3, 10]
    csat = [5, 3, 4, 1, 5, 4, 2, 5]
    for i in range(8):
        region, other = (_REGIONS[i], "") if i != 5 else ("Other (please specify)", "Islands")
        rows.append([
            str(114230512300 + i), "432100123", f"04/{i + 2:02d}/2024 09:12:44 AM",
            f"04/{i + 2:02d}/2024 09:15:02 AM", f"198.51.100.{i}", "", "", "", "", str(nps[i]),
            _WHY[(i + 3) % 8], region, other, str(csat[i]),
            "Broadband", "TV" if i % 2 else "", "Mobile" if i % 3 == 0 else "",
        ])  # fmt: skip
    return rows


# --- writers --------------------------------------------------------------------------------


def write_csv(
    path: Path, rows: list[list[str]], *, encoding: str = "utf-8", delimiter: str = ","
) -> None:
    buf = io.StringIO(newline="")
    import csv

    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))


def write_xlsx(path: Path, rows: list[list[object]], merges: list[str] = ()) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Export"
    for r in rows:
        ws.append([None if v == "" else v for v in r])
    for m in merges:
        ws.merge_cells(m)
    wb.save(path)
    _normalise_zip(path)


def _normalise_zip(path: Path) -> None:
    """Fix the timestamps inside an XLSX so regenerating gives the same bytes."""
    src = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                import re

                data = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2024-01-01T00:00:00Z", data)
            zi = zipfile.ZipInfo(info.filename, date_time=(2024, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(zi, data)
    path.write_bytes(out.getvalue())


def main() -> None:
    BAD.mkdir(exist_ok=True)
    table = [PLAIN_COLUMNS, *PLAIN_ROWS]
    write_csv(HERE / "plain_utf8.csv", table)
    write_csv(HERE / "plain_bom.csv", table, encoding="utf-8-sig")
    write_csv(HERE / "plain_cp1252_semicolon.csv", table, encoding="cp1252", delimiter=";")
    write_csv(HERE / "plain_tab.tsv", table, delimiter="\t")
    write_csv(HERE / "plain_pipe.txt", table, delimiter="|")
    write_csv(HERE / "plain_utf16.txt", table, encoding="utf-16", delimiter="\t")
    # XLSX: dates as real dates and scores as numbers, ids as text (as Excel users keep them)
    xrows: list[list[object]] = [PLAIN_COLUMNS]
    for r in PLAIN_ROWS:
        xrows.append([r[0], datetime.fromisoformat(r[1]), *r[2:5], int(r[5]), r[6]])
    write_xlsx(HERE / "plain.xlsx", xrows)
    # a report's title above the header: a CSV title with a comma and a blank line under it,
    # an XLSX title in A1 with an empty row under it
    write_csv(HERE / "title_lines.csv", [["Customer survey export", " March 2024"], [], *table])
    write_xlsx(HERE / "title_rows.xlsx", [["Customer survey export (March 2024)"], [], *xrows])
    frame = pd.DataFrame(PLAIN_ROWS, columns=PLAIN_COLUMNS).replace("", None)
    typed = frame.assign(nps=frame["nps"].astype("int64"))
    typed.to_parquet(HERE / "plain.parquet", index=False)
    records = [
        {k: (int(v) if k == "nps" else v) for k, v in zip(PLAIN_COLUMNS, r, strict=True) if v}
        for r in PLAIN_ROWS
    ]
    (HERE / "plain.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    (HERE / "plain.json").write_text(
        json.dumps(records, ensure_ascii=False, indent=1), encoding="utf-8"
    )

    write_csv(HERE / "clothing_reviews.csv", [CLOTHING_HEADER, *clothing_rows()])
    write_csv(
        HERE / "qualtrics.csv",
        [Q_FIELDS, Q_TEXTS, Q_IMPORT, *qualtrics_rows()],
        encoding="utf-8-sig",
    )
    write_csv(HERE / "surveymonkey.csv", [SM_Q, SM_SUB, *surveymonkey_rows()])
    sm_xlsx = [[v for v in SM_Q], SM_SUB, *surveymonkey_rows()]
    write_xlsx(HERE / "surveymonkey.xlsx", sm_xlsx, merges=["L1:M1", "O1:Q1"])

    # --- bad inputs ---------------------------------------------------------------------------
    (BAD / "empty.csv").write_bytes(b"")
    (BAD / "blank_lines.csv").write_bytes(b"\r\n\r\n  \r\n")
    write_csv(BAD / "header_only.csv", [PLAIN_COLUMNS])
    write_csv(
        BAD / "qualtrics_header_only.csv", [Q_FIELDS, Q_TEXTS, Q_IMPORT], encoding="utf-8-sig"
    )
    (BAD / "xlsx_named.csv").write_bytes((HERE / "plain.xlsx").read_bytes())
    (BAD / "csv_named.xlsx").write_bytes((HERE / "plain_utf8.csv").read_bytes())
    rng = random.Random(7)
    (BAD / "binary.csv").write_bytes(bytes(rng.randrange(256) for _ in range(2048)))
    (BAD / "html_error.csv").write_text(
        "<!DOCTYPE html>\n<html><head><title>Sign in - Acme Survey Portal</title></head>\n"
        "<body><h1>Your session has expired</h1><p>Please sign in again.</p></body></html>\n",
        encoding="utf-8",
    )
    # UTF-8 file with two lines pasted in from a cp1252 source
    mixed = "id,comment\r\n1,Café was great\r\n2,Crème brûlée ok\r\n3,plain text\r\n"
    raw = mixed.encode("utf-8") + "4,Déjà vu – again\r\n5,naïve “quotes”\r\n".encode("cp1252")
    (BAD / "mixed_encoding.csv").write_bytes(raw)
    (BAD / "ragged.csv").write_text(
        "id,score,comment\n1,9,Fine\n2,3,Great service, fast delivery\n3,7,ok\n"
        "4,5,slow, rude, late\n",
        encoding="utf-8",
    )
    (BAD / "short_rows.csv").write_text(
        "id,score,comment,region\n1,9,Fine,North\n2,3\n3,7,ok,South\n", encoding="utf-8"
    )
    (BAD / "unclosed_quote.csv").write_text(
        'id,comment\n1,fine\n2,"this quote never ends\n3,more\n4,text\n', encoding="utf-8"
    )
    (BAD / "legacy.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    good = (HERE / "plain.xlsx").read_bytes()
    (BAD / "truncated.xlsx").write_bytes(good[: len(good) // 2])
    # zip bomb: a valid small workbook plus a part that unpacks 48 MiB from ~50 KiB
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info.filename), compress_type=zipfile.ZIP_DEFLATED)
        zi = zipfile.ZipInfo("xl/media/image1.bin", date_time=(2024, 1, 1, 0, 0, 0))
        dst.writestr(zi, bytes(48 << 20), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    (BAD / "zip_bomb.xlsx").write_bytes(out.getvalue())
    (BAD / "bad_line.jsonl").write_text(
        '{"id": 1, "comment": "fine"}\n{"id": 2, "comment": "ok"}\n{"id": 3, "comment": \n',
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
