"""Reading a complete shipping address out of a chat message.

Shoppers type addresses on one line, comma separated: "12 Main St, Apt 4, Springfield, IL 62701,
US", "send it to 500 Oak Avenue, Portland OR 97201" or with line breaks. We only accept an address
we can fill completely (street, city, ZIP or postal code, country): a half-read address is asked
for again rather than guessed. The country may be left out when a US state code and a five-digit
ZIP make it unambiguous ("88 Lake St, Minneapolis, MN 55408"): the store ships from the US.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from agent.offline.nlu.entities import NUMBER_WORD, ORDER_WORD

_START = re.compile(
    r"\b\d{1,6}[A-Za-z]?\s+(?!(?:to|at|for|is|and|or|has|was|with|please|instead|should|will|go|ship)\b)[A-Za-z]",
    re.IGNORECASE,
)
# "order #1004 to 9 Pine St", "ordr 1004 to ...": the order number is not where the street starts.
_ORDER_BEFORE = re.compile(rf"(?:{ORDER_WORD}|#|{NUMBER_WORD})\s*#?\s*$", re.IGNORECASE)
# An email next to the address ("... NJ 07310? dev@example.com") is not part of it.
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Where the sentence holding the address may end: "..., MN 55408. jonas@...", "..., NJ 07310? ...".
_SENTENCE_END = re.compile(r"[.?!]+(?=\s|$)")
_TRAILING_FILLER = re.compile(
    r"[\s.!?,]*(?:(?:thanks|thank you|thx|please|pls|ty|instead|now|from now on|(?:and )?(?:my )?e-?mail(?: address)?(?: is)?:?)"
    r"[\s.!?,]*)*$",
    re.IGNORECASE,
)
_UNIT = re.compile(r"^(?:apt|apartment|suite|ste|unit|fl|floor|room|rm|bldg|building|#)\b\.?", re.IGNORECASE)
_STATE_ZIP = re.compile(
    r"^(?:(?P<city>.+?)\s+)?(?P<state>[A-Za-z]{2})\.?\s+(?P<zip>[A-Za-z0-9][A-Za-z0-9 -]{2,9})$"
)
_ZIP_ONLY = re.compile(
    r"^(?P<zip>\d{4,6}(?:-\d{4})?|[A-Za-z]\d[A-Za-z]\s?\d[A-Za-z]\d|[A-Za-z]{1,2}\d[A-Za-z\d]?\s?\d[A-Za-z]{2})$"
)
_US_ZIP = re.compile(r"^\d{5}(?:-\d{4})?$")

_COUNTRIES: Final[dict[str, str]] = {
    "us": "US", "usa": "US", "u.s.": "US", "u.s.a.": "US", "united states": "US",
    "united states of america": "US", "america": "US",
    "ca": "CA", "canada": "CA",
    "gb": "GB", "uk": "GB", "u.k.": "GB", "united kingdom": "GB", "england": "GB", "great britain": "GB",
    "ie": "IE", "ireland": "IE", "de": "DE", "germany": "DE", "fr": "FR", "france": "FR",
    "es": "ES", "spain": "ES", "it": "IT", "italy": "IT", "nl": "NL", "netherlands": "NL",
    "au": "AU", "australia": "AU", "nz": "NZ", "new zealand": "NZ", "mx": "MX", "mexico": "MX",
    "pt": "PT", "portugal": "PT", "se": "SE", "sweden": "SE", "jp": "JP", "japan": "JP",
}  # fmt: skip

_US_STATES: Final[frozenset[str]] = frozenset(
    re.findall(
        r"[A-Z]{2}",
        "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY "
        "NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR",
    )
)


@dataclass(frozen=True)
class ParsedAddress:
    """An address with every field ``update_shipping_address`` needs (name is kept as it was)."""

    address1: str
    address2: str | None
    city: str
    province_code: str | None
    zip: str
    country_code: str

    def as_args(self) -> dict[str, str | None]:
        """The ``NewAddress`` argument object of ``update_shipping_address``."""
        return {
            "name": None,
            "address1": self.address1,
            "address2": self.address2,
            "city": self.city,
            "province_code": self.province_code,
            "zip": self.zip,
            "country_code": self.country_code,
        }

    def one_line(self) -> str:
        region = f"{self.province_code or ''} {self.zip}".strip()
        parts = [self.address1, self.address2, self.city, region, self.country_code]
        return ", ".join(p for p in parts if p)


def _country(part: str) -> str | None:
    return _COUNTRIES.get(part.strip().strip(".").lower()) or _COUNTRIES.get(part.strip().lower())


def address_start(text: str) -> int | None:
    """Where the complete address in ``text`` starts (its street number), or ``None``."""
    cleaned = _EMAIL.sub(lambda m: " " * len(m.group(0)), text)
    for match in _START.finditer(cleaned):
        if _ORDER_BEFORE.search(cleaned[max(0, match.start() - 15) : match.start()]):
            continue
        if parse_address(cleaned[match.start() :]) is not None:
            return match.start()
    return None


def parse_address(text: str) -> ParsedAddress | None:
    """The complete address in ``text``, or ``None`` when there is none we can read fully.

    The address runs from its street number to the end of the message or, when the message goes
    on after it ("..., NJ 07310? my email is ..."), to the end of its sentence: the longest piece
    that reads as a complete address wins.
    """
    text = _EMAIL.sub(" ", text)
    starts = [
        m.start()
        for m in _START.finditer(text)
        if not _ORDER_BEFORE.search(text[max(0, m.start() - 15) : m.start()])
    ]
    if not starts:
        return None
    rest = text[starts[0] :]
    ends = [len(rest)] + [m.end() for m in reversed(list(_SENTENCE_END.finditer(rest)))]
    for end in ends:
        parsed = _parse_body(rest[:end])
        if parsed is not None:
            return parsed
    return None


def _parse_body(text: str) -> ParsedAddress | None:
    """``text`` (starting at the street number) as one complete address, or ``None``."""
    body = _TRAILING_FILLER.sub("", text.replace("\n", ", "))
    parts = [p.strip() for p in body.split(",") if p.strip()]
    if len(parts) < 2:
        return None
    country: str | None = None
    if len(parts) > 2 and _country(parts[-1]):
        country = _country(parts.pop())
    state: str | None = None
    city: str | None = None
    zip_code: str | None = None
    tail = parts.pop()
    state_zip = _STATE_ZIP.match(tail)
    zip_only = _ZIP_ONLY.match(tail)
    if state_zip and any(ch.isdigit() for ch in state_zip.group("zip")):
        state, zip_code = state_zip.group("state").upper(), state_zip.group("zip").strip()
        city = state_zip.group("city")
    elif zip_only:
        zip_code = zip_only.group("zip")
        if parts and re.fullmatch(r"[A-Za-z]{2}", parts[-1]):
            state = parts.pop().upper()
    else:
        return None
    if city is None:
        if len(parts) < 2:
            return None
        city = parts.pop()
    if not parts or not re.match(r"\d", parts[0]):
        return None
    address1 = parts[0]
    rest = parts[1:]
    address2 = ", ".join(rest) if rest else None
    if address2 is not None and not _UNIT.match(address2) and len(rest) > 1:
        return None  # too many pieces to know which is which
    if country is None:
        # A US state code with a five-digit ZIP is unambiguous; anything else needs the country.
        if state in _US_STATES and zip_code and _US_ZIP.match(zip_code):
            country = "US"
        else:
            return None
    if not city or any(ch.isdigit() for ch in city):
        return None
    return ParsedAddress(
        address1=address1[:200],
        address2=address2[:200] if address2 else None,
        city=city.strip()[:100],
        province_code=state,
        zip=zip_code[:20],
        country_code=country,
    )
