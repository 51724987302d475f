"""Write ``tests/data/pii/pii_labelled.jsonl``: customer-feedback lines with planted PII.

Deterministic (seeded ``random``, no network, no Faker). Each output line is
``{"text": ..., "spans": [{"start": s, "end": e, "kind": k}, ...]}`` where ``text[s:e]`` is
exactly the planted item and ``kind`` is one of email, phone, card, iban, postcode, id, url.
Lines without PII have ``"spans": []`` and carry numbers that are *not* personal data
(sizes, prices, dates, times, percentages, model numbers, flight numbers, ...).

The formats below are written from how customers actually type these things (spaces,
dashes, brackets, +44 (0), lower-case postcodes, plus-tagged emails, ...), not from the
detector's patterns; ``benchmarks/pii.py`` then measures how the detector does.

    .venv/bin/python benchmarks/make_pii_set.py [--n-pii 600] [--n-clean 220] [--seed 13]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import string
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "pii" / "pii_labelled.jsonl"

FIRST = ["james", "olivia", "mohammed", "emma", "liam", "sophie", "raj", "aisha", "tom",
         "chloe", "daniel", "priya", "sean", "hannah", "wei", "lucy", "carlos", "fatima",
         "jack", "grace", "ben", "zoe", "omar", "amelia", "kate", "dev", "mary", "luke"]
LAST = ["smith", "jones", "patel", "williams", "brown", "taylor", "khan", "murphy", "wilson",
        "evans", "nguyen", "garcia", "obrien", "thompson", "walker", "chen", "hughes", "davies",
        "roberts", "singh", "clarke", "lewis", "martin", "kowalski", "okafor", "hall"]
DOMAINS = ["gmail.com", "yahoo.co.uk", "hotmail.com", "outlook.com", "btinternet.com",
           "icloud.com", "aol.com", "hotmail.co.uk", "protonmail.ch", "live.com",
           "sky.com", "virginmedia.com", "comcast.net", "my-isp.net"]
WORK_DOMAINS = ["mail.acme-corp.co.uk", "students.ed.ac.uk", "uk.bakerlaw.com",
                "staff.nhs.net", "eu.company.io", "corp.example.org"]


# --------------------------------------------------------------------------- planted PII


def email(r: random.Random) -> str:
    f, last = r.choice(FIRST), r.choice(LAST)
    local = r.choice([
        f"{f}.{last}", f"{f}{last}", f"{f[0]}.{last}", f"{f}_{last}", f"{f}{r.randint(1, 99)}",
        f"{f}+{r.choice(['amazon', 'shop', 'news', 'returns', 'bank'])}",
        f"{f}.{last}+{r.choice(['orders', 'spam', 'uk'])}", f"{f[0]}{last}{r.randint(70, 99)}",
        f"{last}.{f}", f"{f}-{last}",
    ])
    domain = r.choice(WORK_DOMAINS) if r.random() < 0.25 else r.choice(DOMAINS)
    out = f"{local}@{domain}"
    style = r.random()
    if style < 0.12:
        out = out.upper()
    elif style < 0.3:  # John.Smith@Gmail.com
        out = "".join(p.capitalize() if p.isalpha() else p for p in re.split(r"(\W)", out))
    return out


UK_AREAS = ["020", "0161", "0113", "0117", "0121", "0131", "0141", "0151", "0114", "0115",
            "0191", "029"]


def _uk_geo(r: random.Random) -> tuple[str, str]:
    """(area code with leading 0, subscriber number) in the usual UK grouping."""
    area = r.choice(UK_AREAS)
    if area in ("020", "029"):  # 020 7946 0xxx is Ofcom's drama range
        if r.random() < 0.5:
            return area, f"7946 0{r.randint(0, 999):03d}"
        return area, f"{r.choice('378')}{r.randint(0, 999):03d} {r.randint(0, 9999):04d}"
    if r.random() < 0.5:
        return area, f"496 0{r.randint(0, 999):03d}"
    return area, f"{r.randint(2, 9)}{r.randint(0, 99):02d} {r.randint(0, 9999):04d}"


def _uk_mobile(r: random.Random) -> str:
    """Eleven digits starting 07 (no separators)."""
    if r.random() < 0.4:
        return f"07700900{r.randint(0, 999):03d}"
    return "07" + r.choice("3456789") + "".join(r.choices(string.digits, k=8))


def phone_uk(r: random.Random) -> str:
    kind = r.random()
    if kind < 0.55:
        m = _uk_mobile(r)
        return r.choice([
            f"{m[:5]} {m[5:]}", f"{m[:5]}-{m[5:8]}-{m[8:]}", m, f"{m[:5]} {m[5:8]} {m[8:]}",
            f"+44 {m[1:5]} {m[5:]}", f"+44{m[1:]}", f"+44 (0){m[1:5]} {m[5:]}",
            f"(+44) {m[1:5]} {m[5:]}", f"0044 {m[1:5]} {m[5:]}",
        ])
    area, sub = _uk_geo(r)
    return r.choice([
        f"{area} {sub}", f"({area}) {sub}", f"+44 {area[1:]} {sub}", f"+44 (0){area[1:]} {sub}",
        f"{area}{sub.replace(' ', '')}", f"{area}-{sub.replace(' ', '-')}",
    ])


US_AREAS = ["212", "415", "312", "646", "718", "617", "202", "305", "512", "206", "303",
            "404", "702", "713", "818", "480", "619", "917"]


def phone_us(r: random.Random) -> str:
    a = r.choice(US_AREAS)
    if r.random() < 0.5:
        ex, line = "555", f"01{r.randint(0, 99):02d}"
    else:
        ex, line = f"{r.randint(2, 9)}{r.randint(0, 99):02d}", f"{r.randint(0, 9999):04d}"
    if r.random() < 0.08:
        a = r.choice(["800", "888", "877"])
    return r.choice([
        f"({a}) {ex}-{line}", f"{a}-{ex}-{line}", f"+1 {a} {ex} {line}", f"{a}.{ex}.{line}",
        f"1-{a}-{ex}-{line}", f"+1 ({a}) {ex}-{line}", f"{a}{ex}{line}", f"{a} {ex} {line}",
        f"+1-{a}-{ex}-{line}",
    ])


def phone(r: random.Random) -> str:
    return phone_uk(r) if r.random() < 0.55 else phone_us(r)


def _luhn_digit(payload: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:  # doubled once the check digit is appended
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def card_number(r: random.Random) -> tuple[str, str]:
    """(digits, network)."""
    net = r.choices(["visa", "mc", "amex", "mc2"], weights=[5, 3, 2, 1])[0]
    if net == "visa":
        head, n = "4", 16
    elif net == "mc":
        head, n = str(r.randint(51, 55)), 16
    elif net == "mc2":
        head, n = str(r.randint(2221, 2720)), 16
    else:
        head, n = r.choice(["34", "37"]), 15
    payload = head + "".join(r.choices(string.digits, k=n - 1 - len(head)))
    return payload + _luhn_digit(payload), "amex" if net == "amex" else "other"


def _group(digits: str, sizes: list[int], sep: str) -> str:
    out, i = [], 0
    for s in sizes:
        out.append(digits[i:i + s])
        i += s
    return sep.join(out)


def card(r: random.Random) -> str:
    d, net = card_number(r)
    sizes = [4, 6, 5] if net == "amex" else [4, 4, 4, 4]
    return r.choices([_group(d, sizes, " "), _group(d, sizes, "-"), d],
                     weights=[5, 2, 3])[0]


def _iban_check(country: str, bban: str) -> str:
    moved = bban + country + "00"
    number = int("".join(str(int(c, 36)) for c in moved))
    return f"{98 - number % 97:02d}"


def iban(r: random.Random) -> str:
    country = r.choice(["GB", "DE", "FR", "NL", "ES", "GB", "IE"])
    dig = lambda k: "".join(r.choices(string.digits, k=k))  # noqa: E731
    if country == "GB":
        bban = r.choice(["NWBK", "BARC", "HBUK", "LOYD", "MIDL", "MONZ"]) + dig(14)
    elif country == "IE":
        bban = r.choice(["AIBK", "BOFI"]) + dig(14)
    elif country == "DE":
        bban = dig(18)
    elif country == "FR":
        bban = dig(10) + dig(11) + dig(2)
    elif country == "NL":
        bban = r.choice(["ABNA", "INGB", "RABO", "TRIO"]) + dig(10)
    else:
        bban = dig(20)
    full = country + _iban_check(country, bban) + bban
    if r.random() < 0.6:
        return " ".join(full[i:i + 4] for i in range(0, len(full), 4))
    return full


UK_OUTWARD = ["SW1A", "M1", "B33", "CR2", "DN55", "EC1A", "W1A", "LS1", "G2", "EH1", "BS8",
              "NW3", "E14", "SE15", "OX4", "CB2", "L1", "NE1", "CF10", "BT7", "N1", "SW11",
              "RG1", "PO1", "M20", "B1", "GU21", "KT2", "S10", "WC2H"]
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


def postcode_uk(r: random.Random) -> str:
    pc = f"{r.choice(UK_OUTWARD)} {r.randint(0, 9)}" + "".join(r.choices(INWARD_LETTERS, k=2))
    if r.random() < 0.1:
        pc = pc.replace(" ", "")
    if r.random() < 0.15:
        pc = pc.lower()
    return pc


US_CITIES = [("Austin", "TX", "787"), ("Brooklyn", "NY", "112"), ("Chicago", "IL", "606"),
             ("Seattle", "WA", "981"), ("Denver", "CO", "802"), ("Miami", "FL", "331"),
             ("Boston", "MA", "021"), ("Phoenix", "AZ", "850"), ("Portland", "OR", "972"),
             ("San Diego", "CA", "921"), ("Atlanta", "GA", "303"), ("Columbus", "OH", "432")]


def zip_us(r: random.Random) -> tuple[str, str, str]:
    """(text before the zip, zip, text after): the zip alone is the planted span."""
    city, state, pre = r.choice(US_CITIES)
    z = pre + f"{r.randint(0, 99):02d}"
    style = r.random()
    if style < 0.45:
        sep = r.choice([", ", " "])
        return f"{city}{sep}{state} ", z, ""
    if style < 0.65:
        return r.choice(["ZIP ", "zip ", "zip code ", "Zip: ", "ZIP code "]), z, ""
    if style < 0.85:
        return f"{city}, {state} ", f"{z}-{r.randint(0, 9999):04d}", ""
    return "", f"{z}-{r.randint(0, 9999):04d}", ""


def _alnum(r: random.Random, k: int, letters: str = string.ascii_uppercase) -> str:
    return "".join(r.choices(letters + string.digits, k=k))


def order_id(r: random.Random) -> tuple[str, str]:
    """(keyword text, id): the id alone is planted."""
    dig = lambda k: "".join(r.choices(string.digits, k=k))  # noqa: E731
    return r.choice([
        ("order #", f"{r.choice('ABCDEFGHKW')}{dig(6)}"),
        ("order number ", dig(r.randint(6, 10))),
        ("order no. ", f"{dig(3)}-{dig(7)}-{dig(7)}"),
        ("Order ", f"#{dig(8)}"),
        ("order ref ", f"{_alnum(r, 3, 'ABCDEFGHJKLMNPQRSTUVWXYZ')}{dig(5)}"),
        ("order number: ", dig(9)),
        ("order ID ", f"{dig(3)}-{dig(7)}-{dig(7)}"),
        ("my order number is ", dig(8)),
    ])


def account_id(r: random.Random) -> tuple[str, str]:
    dig = lambda k: "".join(r.choices(string.digits, k=k))  # noqa: E731
    return r.choice([
        ("account number ", dig(8)), ("acct no ", dig(8)), ("account no. ", dig(10)),
        ("account ", dig(8)), ("customer number ", dig(r.randint(7, 10))),
        ("customer ID ", f"C{dig(7)}"), ("membership number ", dig(9)),
        ("account number is ", dig(8)), ("policy number ", f"POL-{dig(8)}"),
    ])


def booking_id(r: random.Random) -> tuple[str, str]:
    dig = lambda k: "".join(r.choices(string.digits, k=k))  # noqa: E731
    pnr = _alnum(r, 6, "ABCDEFGHJKLMNPQRSTUVWXYZ")
    return r.choice([
        ("booking ref ", pnr), ("booking reference ", pnr), ("booking reference: ", pnr),
        ("confirmation code ", pnr), ("booking ", pnr), ("ticket ", dig(7)),
        ("ticket number ", f"{r.choice(['125', '016', '001', '220'])}-{dig(10)}"),
        ("e-ticket ", f"{r.choice(['125', '176'])}{dig(10)}"),
    ])


def case_id(r: random.Random) -> tuple[str, str]:
    dig = lambda k: "".join(r.choices(string.digits, k=k))  # noqa: E731
    return r.choice([
        ("case number ", dig(8)), ("case ref ", f"CAS-{dig(6)}-{_alnum(r, 4)}"),
        ("reference ", _alnum(r, 8)), ("ref: ", dig(10)), ("complaint reference ", dig(9)),
        ("invoice ", f"INV-{r.randint(2019, 2024)}-{dig(5)}"),
        ("tracking number ", f"1Z{_alnum(r, 6)}{dig(10)}"),
        ("tracking number ", "".join(r.choices("ABCDEFGHJKLMNPQRSTUVWXYZ", k=2)) + f"{dig(9)}GB"),
        ("ticket #", dig(6)),
    ])


SHOPS = ["track.shop.com", "www.argos-returns.co.uk", "links.britishair.example",
         "accounts.mybank.co.uk", "my.ee-mobile.co.uk", "click.email.asos.example",
         "app.monzo.example", "portal.virginmedia.example", "www.ryanair.example"]


def url(r: random.Random) -> str:
    tok = lambda k: "".join(r.choices(string.ascii_letters + string.digits, k=k))  # noqa: E731
    hexs = lambda k: "".join(r.choices("0123456789abcdef", k=k))  # noqa: E731
    host = r.choice(SHOPS)
    return r.choice([
        f"https://{host}/p?id={r.randint(10000, 99999)}&token={tok(24)}",
        f"https://{host}/reset-password?token={hexs(32)}",
        f"https://{host}/account/reset?uid={r.randint(1000, 999999)}&t={tok(20)}",
        f"http://{host}/orders/view/{hexs(8)}-{hexs(4)}-{hexs(4)}-{hexs(4)}-{hexs(12)}",
        f"https://{host}/c/{tok(22)}",
        f"https://{host}/verify#code={tok(12)}",
        f"https://{host}/unsubscribe?email={r.choice(FIRST)}%40gmail.com&sig={hexs(16)}",
        f"www.{host.removeprefix('www.')}/track?ref={tok(10)}",
    ])


# --------------------------------------------------------------------------- tricky non-PII


def price(r: random.Random) -> str:
    return r.choice([
        f"${r.randint(5, 300)}.{r.choice(['99', '49', '00', '95'])}",
        f"£{r.randint(1, 9)},{r.randint(0, 999):03d}", f"£{r.randint(2, 80)}",
        f"£{r.randint(5, 120)}.{r.randint(0, 99):02d}", f"{r.randint(10, 900)} euros",
        f"€{r.randint(20, 400)}", f"${r.randint(1, 9)},{r.randint(0, 999):03d}.00",
        f"£{r.randint(10, 60)} a month", f"{r.randint(2, 30)}p",
    ])


def date(r: random.Random) -> str:
    d, m, y = r.randint(1, 28), r.randint(1, 12), r.randint(2015, 2024)
    mon = ["Jan", "Feb", "March", "April", "May", "June", "July", "Aug", "Sept", "Oct", "Nov",
           "December"][m - 1]
    return r.choice([f"{d:02d}/{m:02d}/{y}", f"{y}-{m:02d}-{d:02d}", f"{d}/{m}/{y % 100:02d}",
                     f"{d} {mon} {y}", f"{mon} {d}, {y}", f"{d}.{m}.{y}", f"{m}/{d}/{y}"])


def time_(r: random.Random) -> str:
    h, mi = r.randint(1, 23), r.choice([0, 15, 30, 45, 5, 50])
    return r.choice([f"{h:02d}:{mi:02d}", f"{h % 12 or 12}:{mi:02d}pm", f"{h % 12 or 12}am",
                     f"{h:02d}{mi:02d}hrs", f"{h % 12 or 12}.{mi:02d}"])


def small(r: random.Random) -> str:
    return str(r.randint(2, 40))


FILLERS = {
    "price": price, "date": date, "time": time_, "n": small,
    "pct": lambda r: f"{r.randint(1, 99)}%",
    "year": lambda r: str(r.randint(1998, 2024)),
    "size": lambda r: r.choice(["size 12", "size 8", "a 10", "UK 7", "EU 42", "US 9.5",
                                "size 16-18", "XL", "32W 30L", "34DD", "36C", "size 4T"]),
    "height": lambda r: r.choice(["5'8\"", "5ft 4", "6'1", "170cm", "5' 11\"", "1.82m"]),
    "weight": lambda r: r.choice(["9st 4lb", "68kg", "140 lbs", "11 stone"]),
    "model": lambda r: r.choice(["iPhone 12", "iPhone 14 Pro Max", "Galaxy S21", "Pixel 7a",
                                 "Echo Dot 3rd gen", "PS5", "Xbox Series X", "WH-1000XM4",
                                 "MacBook Air M2", "Kindle Paperwhite 11th gen",
                                 "Dyson V15", "KD-55X85J", "Fire TV Stick 4K", "AirPods Pro 2",
                                 "iPad 9th gen", "Series 7 watch", "Nest Mini 2nd gen",
                                 "Galaxy A52 5G", "Switch OLED"]),
    "stars": lambda r: r.choice(["5/5", "1/5", "4.5 stars", "3 out of 5", "10/10", "2 stars",
                                 "0/10", "4/5"]),
    "flight": lambda r: r.choice(["UA 1234", "BA283", "BA 117", "FR 8342", "EZY6721",
                                  "DL 405", "AA100", "VS 3", "LH 901", "EK 29", "U2 8411"]),
    "duration": lambda r: r.choice(["2 hours 45 minutes", "45 mins", "3 weeks", "90 minutes",
                                    "1h 20m", "6-8 weeks", "48 hours", "10 working days",
                                    "over an hour", "2.5 hrs", "14 days"]),
    "qty": lambda r: r.choice(["3 x 500ml", "2 packs of 24", "12-pack", "1.5 litres", "6 pairs",
                               "a 2kg bag", "4 x AA", "200 count", "500GB", "2TB", "100Mbps",
                               "65 inch", "1,000 points", "25,000 Avios", "3 for 2"]),
    "misc": lambda r: r.choice(["gate B12", "seat 23A", "Terminal 5", "platform 9", "room 1204",
                                "aisle 14", "row 32", "card ending 4421", "the last 4 digits 0932",
                                "zone 1-2", "A4 paper", "M25", "the 7:15 train", "4G", "5G",
                                "0% APR", "24/7", "1-2 days", "3rd time", "2nd call"]),
}


# --------------------------------------------------------------------------- templates

# Slots: {email} {phone} {phone_uk} {phone_us} {card} {iban} {postcode} {zip} {order} {account}
# {booking} {case} {pnr} {url}; any FILLERS key is a non-PII number.
PII_TEMPLATES = [
    # retail
    "My {order} still hasn't arrived, please call me on {phone}.",
    "Ordered the dress in {size} for {price} and got a {size}. Email me at {email} to sort a "
    "refund.",
    "Parcel was meant to come on {date} but tracking says delivered to {postcode}, which isn't "
    "my postcode!",
    "Please send the replacement to {postcode}, not my old address. Re {order}.",
    "I was charged twice on card {card} for {order}. Absolutely ridiculous.",
    "Returned the {model} on {date}, {case}, still no refund of {price}.",
    "great trainers, fit true to {size}. shipping to {zip} took {duration} though",
    "Why does the site keep emailing {email} when I unsubscribed {n} times?",
    "The courier left my parcel at the wrong house, I'm at {postcode}. Ring {phone_uk} before "
    "you come.",
    "click and collect was fine but the reset link {url} you sent me doesn't work",
    "Item arrived damaged ({model}). Contact: {email} / {phone}",
    "I paid with {card} and the {pct} discount wasn't applied. {order}",
    "Customer service rep was lovely. My details for the callback: {phone}, {email}.",
    "{stars} - delivered to {zip} in {duration}, would buy again",
    "Love the jeans ({size}) but the {order} invoice has the wrong name on it",
    "Refund please to the card I used, {card}. Thanks.",
    # airline
    "Flight {flight} was delayed {duration}, {booking}. Reach me on {phone}.",
    "Lost luggage on {flight} on {date}. {booking}, email {email}",
    "I still haven't had the compensation for {booking}. Pay it to {iban} please.",
    "The app crashed at check-in for {booking}, phone {phone_us} if you need more info.",
    "Seat was broken on {flight}. My {account}. Not impressed, {stars}.",
    "They told me to use this link to rebook: {url} - it just shows an error",
    "refund for {booking} should go to IBAN {iban}, not back on the card",
    "Hotel voucher after {flight} cancellation never came, contact {email} or {phone_uk}",
    # telecom
    "Broadband keeps dropping to {qty}. Engineer to {postcode} please, my number is {phone}.",
    "I've been with you for {n} years, {account}, and you put my bill up {pct}. Leaving.",
    "Ported my number {phone} on {date} and lost signal for {duration}.",
    "Signal at {postcode} is terrible, can't even get {qty}. Call me: {phone_uk}",
    "The contract for my {model} says {price} but I'm being billed more. {account}",
    "Please stop texting {phone} about upgrades, I've asked {n} times.",
    "My bill went to {email} instead of {email}, please fix.",
    "Tech support at {time} was useless, {case}. Call back on {phone_us}",
    "New SIM never arrived at {zip}, {order}",
    # banking
    "Transferred {price} to {iban} on {date} and it still hasn't shown.",
    "My card {card} was declined abroad even though I told you I was travelling.",
    "Someone used my card {card} at {time} on {date}, I want it cancelled now.",
    "Direct debit from {iban} was taken twice this month. {account}",
    "I've moved to {postcode}, please update my address on {account}.",
    "Your fraud team rang me on {phone} and I couldn't tell if it was a scam.",
    "The password reset link {url} expired before I could use it.",
    "please update my email from {email} to {email}",
    "Statements keep going to my old address in {zip}. {account}",
    "Salary into {iban} was {duration} late because of your system upgrade",
    "Mortgage team never called back, I'm on {phone_uk} between {time} and {time}.",
    "Card number {card}, expiry not needed, just block it please",
    # survey answers
    "Q: Anything else? A: call me on {phone} if you want details",
    "contact me: {email}",
    "{email}",
    "my number {phone}",
    "Happy to be contacted at {email} or {phone}.",
    "Postcode {postcode}",
    "I live in {zip} and the store near me never has stock",
    "Rate us: {stars}. Comments: good but {order} was late. {email}",
    "Store at {postcode} had {n} tills and only one open. Re {booking}.",
    "Email {email}, phone {phone}, address {postcode}",
    "The tracking link {url} says it's in {zip} but I'm nowhere near there",
    "{case} - still waiting after {duration}",
    "Please call {phone_us} not my landline",
    "For the refund: {iban}, name as on the account",
    "I opened {case} on {date} and nobody has replied to {email}",
    "Sent from my {model}. {phone}",
    # more cards, IBANs, URLs, postcodes
    "Why was {card} charged {price} on {date}? I never ordered anything.",
    "card: {card}",
    "I gave the agent my card number {card} over the phone, is that safe??",
    "Chargeback raised for {card}, {case}.",
    "Please refund {price} to IBAN: {iban}",
    "My IBAN is {iban} and the BIC is on the form.",
    "Paid the deposit from {iban}, quoting {booking}.",
    "Standing order to {iban} bounced on {date}.",
    "Here is the link from the email: {url}",
    "Got a text with {url} - is this phishing?",
    "To reset my password I was sent {url}.",
    "My PNR is {pnr} and I was still bumped off {flight}.",
    "Your unsubscribe link ({url}) just loops.",
    "Delivery to {postcode} failed {n} times, {order}.",
    "Moved from {postcode} to {postcode} and the bill still goes to the old one.",
    "Collected from the store near {zip}, staff were helpful, {stars}.",
    "Wrong address: should be {postcode} not {postcode}.",
]

CLEAN_TEMPLATES = [
    "Ordered a {size} and it fits perfectly, {stars}.",
    "I'm {height} and the {size} was too long in the leg.",
    "Bra in {size} is lovely but the band runs small.",
    "Paid {price} for this and it broke after {duration}.",
    "Was {price}, now {price} - bargain!",
    "Delivered on {date} at {time}, exactly as promised.",
    "Flight {flight} on {date} was delayed {duration}. No food vouchers.",
    "{flight} departed {time} instead of {time}, missed my connection.",
    "Bought the {model} in {year} and the battery is at {pct} health already.",
    "My {model} stopped charging after {duration}. {stars}.",
    "{stars}",
    "{stars} would recommend",
    "Price went up {pct} from {year} to {year}, not happy.",
    "Ordered {qty} and only received {n}.",
    "The {model} is so much better than my old one from {year}.",
    "Waited {duration} on hold on {date}.",
    "Store opens at {time} but staff weren't there until {time}.",
    "Got the {qty} deal for {price}.",
    "I've been a customer since {year}, first time I've had a problem.",
    "Broadband speed is {qty} on a good day, paying {price}.",
    "Upgraded to the {model}, {price} upfront plus {price}.",
    "Size guide says {size} for {height}, {weight}, spot on.",
    "Arrived {date}, returned {date}, refund of {price} took {duration}.",
    "{pct} of the time the app won't load past {time}.",
    "Rated {stars} because {flight} left {duration} late.",
    "Had {n} items in the basket, charged for {n}.",
    "Bought for my son's birthday on {date}. He's {n} and loves it.",
    "Sat in {misc} for {duration} on {flight}.",
    "Went to {misc}, nobody there. {stars}.",
    "{misc} was closed again on {date}.",
    "Compared with {year}, the service is {pct} worse.",
    "Account was opened in {year} and has never been this bad",
    "Order arrived in {duration}, well packed, {stars}.",
    "My order of {qty} came in {n} boxes, overkill.",
    "The case for my {model} cracked within {duration}.",
    "Booked for {n} adults and {n} children on {date}.",
    "Paid {price} with {misc} and still got charged the fee.",
    "Interest rate went from {pct} to {pct} without warning.",
    "Delivery slot {time}-{time} on {date}, they came at {time}.",
    "Only {pct} battery after {duration} of use on the {model}.",
    "Train at {time} cancelled, rebooked on {flight} at {time}, {price} extra.",
    "I ordered {size} in black and {size} in navy, both fine.",
    "The {model} ({year} model) is {price} cheaper elsewhere.",
    "Points balance says {qty} but I had more last {date}.",
    "{n}/10, {n} stars for the staff at {misc}.",
    "Returned on {date} between {time} and {time}, still no email.",
    "Shoe size {size}, usually a {size}, these ran large.",
    "Five stars, {stars}!! Arrived {date} at {time}.",
    "Data allowance of {qty} runs out in {duration}.",
    "Cheaper by {pct} in {year} than it is now at {price}.",
    "Gave it {stars}. The {model} overheats after {duration}.",
    "Loved it. {year} was the first time I tried the {model}.",
    "{flight} {date}: {duration} on the tarmac.",
    "This is my {misc} complaint this month.",
    "PS5 2nd controller stopped working after {duration}.",
    "Bought {qty} at {price} on {date}.",
    "Customer since {year}; the last {n} bills were wrong by {price}.",
    "Ticket prices went up {pct}, {price} for {n} people is too much.",
    "Case of {qty} arrived with {n} broken.",
    "Checked in at {time}, boarded at {time}, landed {duration} late.",
    "See our website www.argos.co.uk for details, it said {price}.",
    "Booking for {n} people at {time} on {date} was lost.",
]

PII_SLOTS = {"pnr", "email", "phone", "phone_uk", "phone_us", "card", "iban", "postcode", "zip",
             "order", "account", "booking", "case", "url"}
SLOT = re.compile(r"\{(\w+)\}")


def _pii_piece(slot: str, r: random.Random) -> tuple[str, str, str, str]:
    """(prefix, value, suffix, kind): only ``value`` is the planted span."""
    simple = {"email": (email, "email"), "phone": (phone, "phone"), "phone_uk": (phone_uk, "phone"),
              "phone_us": (phone_us, "phone"), "card": (card, "card"), "iban": (iban, "iban"),
              "postcode": (postcode_uk, "postcode"), "url": (url, "url")}
    if slot in simple:
        fn, kind = simple[slot]
        return "", fn(r), "", kind
    if slot == "pnr":  # airline record locator, quoted without a keyword the detector knows
        return "", _alnum(r, 6, "ABCDEFGHJKLMNPQRSTUVWXYZ"), "", "id"
    if slot == "zip":
        pre, z, post = zip_us(r)
        return pre, z, post, "postcode"
    keyword, value = {"order": order_id, "account": account_id, "booking": booking_id,
                      "case": case_id}[slot](r)
    if value.startswith("#") and keyword.endswith(" "):  # "Order #12345678": '#' not the id
        keyword, value = keyword + "#", value[1:]
    return keyword, value, "", "id"


def fill(template: str, r: random.Random) -> dict:
    text, spans, pos = "", [], 0
    for m in SLOT.finditer(template):
        text += template[pos:m.start()]
        slot = m.group(1)
        if slot in PII_SLOTS:
            pre, value, post, kind = _pii_piece(slot, r)
            text += pre
            spans.append({"start": len(text), "end": len(text) + len(value), "kind": kind})
            text += value + post
        else:
            text += FILLERS[slot](r)
        pos = m.end()
    text += template[pos:]
    if text and text[0].islower() and r.random() < 0.5:
        text = text[0].upper() + text[1:]  # offsets unchanged
    return {"text": text, "spans": spans}


def build(n_pii: int, n_clean: int, seed: int) -> list[dict]:
    r = random.Random(seed)
    rows = []
    for i in range(n_pii):
        rows.append(fill(PII_TEMPLATES[i % len(PII_TEMPLATES)], r))
    for i in range(n_clean):
        rows.append(fill(CLEAN_TEMPLATES[i % len(CLEAN_TEMPLATES)], r))
    r.shuffle(rows)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-pii", type=int, default=600)
    ap.add_argument("--n-clean", type=int, default=220)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    rows = build(args.n_pii, args.n_clean, args.seed)
    kinds: Counter[str] = Counter()
    for row in rows:
        for s in row["spans"]:
            kinds[s["kind"]] += 1
            assert row["text"][s["start"]:s["end"]].strip() == row["text"][s["start"]:s["end"]]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    n_pii = sum(bool(row["spans"]) for row in rows)
    print(f"wrote {args.out.relative_to(ROOT)}: {n_pii} lines with PII, "
          f"{len(rows) - n_pii} without; planted {dict(sorted(kinds.items()))}")


if __name__ == "__main__":
    main()
