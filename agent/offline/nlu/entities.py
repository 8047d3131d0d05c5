"""Entity extraction for the offline model: pure functions over what the shopper typed.

Order numbers, emails, tracking numbers, amounts, which line items are meant, yes/no answers,
the kind of order change, and splitting a message that carries two requests. Everything is
rule-based and deterministic; ``match_line_items`` uses rapidfuzz to tolerate typos.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Final, Literal

from rapidfuzz import fuzz

OrderChangeKind = Literal["cancel", "address"]

# The word "order" as shoppers type it on a phone: "ordr", "oder", "odrer", "ordre", "purchse", ...
ORDER_WORD: Final[str] = (
    r"(?:order|ordr|odr|oder|orde|odrer|oredr|ordre|ordeer|orderr|oorder|orer|purchase|purchse|purchace|"
    r"puchase|purhcase|pedido|compra|commande|bestellung|auftrag)"
)
# "number" typed in a hurry: "nubmer", "numer", "numbr", "nmber", "numbe".
NUMBER_WORD: Final[str] = (
    r"(?:number|nubmer|numer|numbr|nmber|numbe|nummer|num|no\.?|nr\.?|número|numero|numéro|n\.?º|n°)"
)

# --------------------------------------------------------------------------------------------
# Tracking numbers
# --------------------------------------------------------------------------------------------

_UPS = re.compile(r"\b1Z[0-9A-Z]{16}\b", re.IGNORECASE)
_EASYPOST_TEST = re.compile(r"\bEZ\d{10}\b", re.IGNORECASE)
# USPS IMpb: 20-22 digits starting 91-95 (9400..., 9205..., 9361...), 420+ZIP prefixed variants,
# often typed in groups of four; FedEx: 12 or 15 digits. Digit groups are joined before checking.
_DIGIT_RUN = re.compile(r"(?<![\w$€£#])(?<!\d[.,-])\d(?:[ ]?\d){11,33}(?!\w)(?![.,-]\d)")
_USPS = re.compile(r"(?:420\d{5}(?:\d{4})?)?9[1-5]\d{18,20}")
_FEDEX_LENGTHS: Final[frozenset[int]] = frozenset({12, 15})


@dataclass(frozen=True, slots=True)
class _Span:
    start: int
    end: int
    value: str


def _tracking_spans(text: str) -> list[_Span]:
    """Every tracking number in ``text`` with its position, in reading order."""
    spans = [_Span(m.start(), m.end(), m.group(0).upper()) for m in _UPS.finditer(text)]
    spans += [_Span(m.start(), m.end(), m.group(0).upper()) for m in _EASYPOST_TEST.finditer(text)]
    for match in _DIGIT_RUN.finditer(text):
        digits = match.group(0).replace(" ", "")
        before = text[max(0, match.start() - 30) : match.start()].lower()
        # "order 113542617735902" is an order id, however long: the shopper said so.
        if re.search(rf"\b{ORDER_WORD}\s*(?:{NUMBER_WORD}|#|id)?\s*(?:is|:)?\s*#?\s*$", before):
            continue
        if _USPS.fullmatch(digits) or (len(digits) in _FEDEX_LENGTHS and " " not in match.group(0)):
            spans.append(_Span(match.start(), match.end(), digits))
    return sorted(spans, key=lambda s: s.start)


def extract_tracking_number(text: str) -> str | None:
    """The first carrier tracking number: UPS ``1Z...``, USPS ``9400...``, FedEx 12/15 digits or
    EasyPost test codes such as ``EZ1000000001``. Spaces inside a number are removed and letters
    upper-cased."""
    spans = _tracking_spans(text)
    return spans[0].value if spans else None


# --------------------------------------------------------------------------------------------
# Order numbers
# --------------------------------------------------------------------------------------------

# "order 1001", "order #1001", "order no. 1001", "order number is 1001", "purchase 1001", "ordr 1001"
_ORDER_MARKED = re.compile(
    rf"\b{ORDER_WORD}s?\s*(?:{NUMBER_WORD}|#|id)?\s*(?:is|was|=|:)?\s*#?\s*(\d{{3,15}})\b",
    re.IGNORECASE,
)
# "#1001", "no. 1001", "number 1001", "nr 1001"
# Without the word "order", long numbers are more likely phone numbers: at most 9 digits.
_NUMBER_MARKED = re.compile(rf"(?:#\s?|\b{NUMBER_WORD}\s*#?\s*)(\d{{3,9}})\b", re.IGNORECASE)
# Things a number must not be next to: decimals, phone/date separators, currency, units of time.
_NOT_AFTER: Final[re.Pattern[str]] = re.compile(
    r"^(?:[.,]\d|[-/]\d|\s*(?:%|dollars?|bucks|usd|eur|euros?|pounds|gbp|days?|weeks?|months?|"
    r"years?|hours?|hrs?|minutes?|mins?|items?|pcs|pieces|units|am|pm)\b)",
    re.IGNORECASE,
)
# "#", "no." or "number" right after one of these words is not an order number.
_NOT_BEFORE_WORDS = re.compile(
    r"\b(?:tracking|track|phone|tel|mobile|cell|zip|postal|postcode|invoice|bill|receipt|card|"
    r"gift card|coupon|code|account|ticket|apt|apartment|suite|ste|unit|room|flat|house|street|"
    r"route|rma|case|confirmation|reference|ref|item|sku|model|size)\s*$",
    re.IGNORECASE,
)
_CORRECTION = re.compile(
    r"\b(?:sorry|i meant|i mean|meant to say|actually|correction|my bad|typo|wrong number|oops|"
    r"not that one|instead)\b",
    re.IGNORECASE,
)
_NEGATED_BEFORE = re.compile(
    rf"\b(?:not|instead of|rather than)\s*(?:{ORDER_WORD}|#|{NUMBER_WORD})?\s*#?\s*$", re.IGNORECASE
)
_CONTINUATION = re.compile(r"\s*(?:,|&|and|or)\s*#?\s*(\d{3,15})\b(?![.,/-]\d)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class _OrderMention:
    start: int
    digits: str
    negated: bool


# A message that is "basically a number": one 3-10 digit number among a few filler words.
_BARE_NUMBER = re.compile(r"(?<![\w.,/-])#?(\d{3,10})(?![\w.,/-]*\d)")
_BARE_FILLERS: Final[frozenset[str]] = frozenset(
    {
        "it's", "its", "it", "is", "the", "my", "number", "order", "here", "yes", "yeah", "sure", "ok",
        "okay", "sorry", "i", "meant", "mean", "actually", "oh", "um", "uh", "thanks", "thank", "you",
        "thx", "please", "pls", "ty", "that's", "that", "was", "oops", "what", "about"
    }
)  # fmt: skip
_MAX_BARE_FILLERS: Final[int] = 6


def _bare_number(text: str) -> _OrderMention | None:
    """The number of a message like "1001", "it's #1001 thanks" or "sorry, I meant 1002"."""
    matches = list(_BARE_NUMBER.finditer(text))
    if len(matches) != 1:
        return None
    match = matches[0]
    rest = (text[: match.start()] + " " + text[match.end() :]).lower().replace("\u2019", "'")
    words = re.findall(r"[a-z']+", rest)
    if re.search(r"[^\w\s'.,!?:#-]", rest) or len(words) > _MAX_BARE_FILLERS:
        return None
    if any(word not in _BARE_FILLERS for word in words):
        return None
    return _OrderMention(start=match.start(1), digits=match.group(1), negated=False)


def _order_mentions(text: str) -> list[_OrderMention]:
    """All order-number mentions in reading order, excluding amounts, tracking numbers etc."""
    tracking = _tracking_spans(text)
    found: dict[int, _OrderMention] = {}
    for pattern in (_ORDER_MARKED, _NUMBER_MARKED):
        for match in pattern.finditer(text):
            start, end = match.span(1)
            if start in found:
                continue
            if any(span.start <= start < span.end for span in tracking):
                continue
            if _NOT_AFTER.match(text[end:]):
                continue
            before = text[max(0, match.start() - 25) : match.start()]
            if pattern is _NUMBER_MARKED and _NOT_BEFORE_WORDS.search(before):
                continue
            negated = bool(_NEGATED_BEFORE.search(text[max(0, match.start() - 20) : match.start()]))
            found[start] = _OrderMention(start=start, digits=match.group(1), negated=negated)
    # "orders #1001 and 1002", "#1001, #1002": a list continues the first marked number.
    for start in sorted(found):
        end = start + len(found[start].digits)
        while (more := _CONTINUATION.match(text, end)) is not None and not _NOT_AFTER.match(
            text[more.end(1) :]
        ):
            found.setdefault(more.start(1), _OrderMention(more.start(1), more.group(1), False))
            end = more.end(1)
    if not found and not tracking:
        bare = _bare_number(text)
        return [bare] if bare is not None else []
    return [found[key] for key in sorted(found)]


def extract_all_order_numbers(text: str) -> list[str]:
    """Every order number mentioned, digits only, in reading order, without duplicates."""
    seen: list[str] = []
    for mention in _order_mentions(text):
        if mention.digits not in seen:
            seen.append(mention.digits)
    return seen


def extract_order_number(text: str) -> str | None:
    """The order number the shopper means, as digits, or ``None``.

    Recognises ``#1001``, ``order 1001``, ``order #1001``, ``no. 1001``, ``order number is
    1001`` and a message that is basically just a number. Ignores amounts (``$45.00``),
    durations (``1000 days``), phone numbers, zip codes, tracking numbers and numbers after
    words such as "apt" or "invoice". With several candidates, a correction ("sorry, I meant
    #1002", "actually") makes the last one win, "not #1001" rules that one out, and otherwise the
    first one wins.
    """
    mentions = _order_mentions(text)
    candidates = [m for m in mentions if not m.negated] or mentions
    if not candidates:
        return None
    if len(candidates) > 1 and _CORRECTION.search(text):
        return candidates[-1].digits
    return candidates[0].digits


# --------------------------------------------------------------------------------------------
# Email and amount
# --------------------------------------------------------------------------------------------

_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


def extract_email(text: str) -> str | None:
    """The first email address, as written (callers compare case-insensitively)."""
    match = _EMAIL.search(text)
    return match.group(0) if match else None


_AMOUNT_SYMBOL = re.compile(r"[$€£]\s?(\d{1,3}(?:,\d{3})+|\d+)(\.\d{1,2})?(?![\d,])")
_AMOUNT_WORD = re.compile(
    r"(?<![\w#.])(\d{1,3}(?:,\d{3})+|\d+)(\.\d{1,2})?\s?(?:(?:dollars?|bucks|usd|eur|euros?|pounds|gbp)\b|[$€£])",
    re.IGNORECASE,
)
# A bare decimal with two places ("45.50") is an amount in a shop conversation; a bare integer is not.
_AMOUNT_DECIMAL = re.compile(r"(?<![\w#.,/-])(\d+)(\.\d{2})(?![\d.,/-])")


def extract_amount(text: str) -> Decimal | None:
    """The first money amount: ``$45``, ``$1,200.50``, ``45 dollars``, ``€30``, ``45.50``."""
    candidates: list[tuple[int, str]] = []
    for pattern in (_AMOUNT_SYMBOL, _AMOUNT_WORD, _AMOUNT_DECIMAL):
        for match in pattern.finditer(text):
            candidates.append((match.start(), match.group(1).replace(",", "") + (match.group(2) or "")))
    if not candidates:
        return None
    try:
        return Decimal(min(candidates)[1])
    except InvalidOperation:  # pragma: no cover - the regexes only capture digits
        return None


# --------------------------------------------------------------------------------------------
# Line items
# --------------------------------------------------------------------------------------------

_ALL_ITEMS = re.compile(
    r"\b(?:both|all|everything|every item|each one|the whole (?:order|thing|lot)|entire order|the lot)\b",
    re.IGNORECASE,
)
# "all" in these phrases is not a selection of items.
_NOT_ALL = re.compile(r"\b(?:that'?s all|is that all|all good|all right|all set|at all|all done)\b", re.I)
_ORDINALS: Final[dict[str, int]] = {
    "first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3,
    "fifth": 4, "5th": 4,
}  # fmt: skip
_ORDINAL = re.compile(
    r"\b(first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|last)\s+(?:one|item|thing)\b", re.I
)
_WORD = re.compile(r"[a-z0-9]+")
# Words that say nothing about which item is meant.
_STOPWORDS: Final[frozenset[str]] = frozenset(
    {
        "a", "an", "the", "one", "ones", "this", "that", "these", "those", "it", "them", "my", "i", "me",
        "we", "you", "your", "our", "and", "or", "but", "with", "of", "for", "to", "in", "on", "at", "from",
        "is", "are", "was", "be", "want", "wanna", "would", "like", "please", "pls", "just", "only", "also",
        "too", "return", "returning", "refund", "exchange", "send", "back", "keep", "cancel", "item",
        "items", "thing", "things", "product", "order", "get", "got", "need", "can", "could", "do", "don't",
        "dont", "not", "no", "yes", "size", "color", "colour", "pair", "set"
    }
)  # fmt: skip


def _words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS and len(w) > 1]


# What shoppers call a product when they name its kind rather than its title: each group holds
# words for one kind of thing. A title word in a group makes the item answer to every word of it.
_KINDS: Final[tuple[frozenset[str], ...]] = tuple(
    frozenset(group.split())
    for group in (
        "shoe shoes sneaker sneakers trainer trainers runner runners running boots footwear kicks",
        "beanie beanies hat hats cap caps toque bonnet",
        "mug mugs cup cups",
        "bottle bottles flask flasks thermos canteen",
        "tote totes bag bags handbag shopper",
        "journal journals notebook notebooks diary notepad",
        "skillet skillets pan pans fryingpan frypan",
        "lantern lanterns lamp lamps light lights torch",
        "sock socks",
        "shirt shirts top tops tee blouse button",
        "jacket jackets coat coats puffer parka",
        "backpack backpacks rucksack rucksacks pack daypack",
        "gloves glove mitts",
        "blanket blankets throw",
        "candle candles",
        "sunglasses shades glasses sunnies",
        "trunks trunk swimsuit swimwear shorts boardshorts",
        "hammock hammocks",
    )
)


def _item_words(title: str) -> set[str]:
    """The words an item answers to: its title's words (variant included) and their kind's words."""
    words = set(_words(title))
    for group in _KINDS:
        if words & group:
            words |= group
    return words


def match_line_items(text: str, items: Sequence[str], threshold: float = 85.0) -> list[int]:
    """Indexes of the ``items`` the shopper refers to, ascending; empty when none match.

    "both", "all of them", "everything" select all items; "the second one" / "the last one"
    select by position. Otherwise each word of the message is fuzzily compared (rapidfuzz
    ``ratio``, so "mugg" still finds "Mug") with the words of each item name: a word that
    matches exactly one item selects it, and the items sharing the most matching words are
    selected too, so "the blue mug" picks "Blue Mug" over "Blue Shirt" and "Red Mug".
    """
    if not items:
        return []
    if _ALL_ITEMS.search(_NOT_ALL.sub(" ", text)):
        return list(range(len(items)))
    ordinal = _ORDINAL.search(text)
    if ordinal:
        word = ordinal.group(1).lower()
        index = len(items) - 1 if word == "last" else _ORDINALS[word]
        if index < len(items):
            return [index]
    item_words = [_item_words(item) for item in items]
    scores = [0] * len(items)
    selected: set[int] = set()
    for word in _words(text):
        hits = [
            i
            for i, words in enumerate(item_words)
            if any(fuzz.ratio(word, candidate) >= threshold for candidate in words)
        ]
        for i in hits:
            scores[i] += 1
        if len(hits) == 1:
            selected.add(hits[0])
    best = max(scores)
    if best > 0:
        selected.update(i for i, score in enumerate(scores) if score == best)
    return sorted(selected)


def ambiguous_line_items(text: str, items: Sequence[str], threshold: float = 85.0) -> list[int]:
    """The items a loose name could mean when it fits several equally ("the merino one" for a
    merino beanie and merino socks): ask which one. Empty when the name is clear, names all
    items ("both"), or names none."""
    if len(items) < 2 or _ALL_ITEMS.search(_NOT_ALL.sub(" ", text)) or _ORDINAL.search(text):
        return []
    item_words = [_item_words(item) for item in items]
    hits_per_word = [
        {i for i, words in enumerate(item_words) if any(fuzz.ratio(word, c) >= threshold for c in words)}
        for word in _words(text)
    ]
    hits_per_word = [hits for hits in hits_per_word if hits]
    if not hits_per_word or any(len(hits) == 1 for hits in hits_per_word):
        return []
    if re.search(r"\b(?:and|both|plus|as well)\b", text, re.IGNORECASE):
        return []
    candidates = set.intersection(*hits_per_word)
    return sorted(candidates) if len(candidates) > 1 else []


# --------------------------------------------------------------------------------------------
# Yes / no
# --------------------------------------------------------------------------------------------

# Hesitation: never read as an answer, so nothing irreversible happens on a "maybe".
_UNSURE = re.compile(
    r"\b(?:not sure|unsure|maybe|perhaps|i guess|i think so|dunno|don'?t know|no idea|hmm+|"
    r"let me think|not yet sure)\b",
    re.IGNORECASE,
)
# Phrases containing a negative word that do not say "no".
_NOT_A_NO = re.compile(
    r"\b(?:no (?:problem|worries|rush|doubt)|not a problem|don'?t worry|why not|can'?t wait|"
    r"no reason not to)\b",
    re.IGNORECASE,
)
# Whole negative phrases, removed before looking for a "yes" so that "don't do it" or
# "that's not right" do not also count as affirmative.
_NEGATIVE = re.compile(
    r"\b(?:don'?t|do not|dont|please don'?t)(?:\s+\w+){0,3}|\bnot (?:right|correct|ok|okay|good|now|"
    r"really|that|yet|interested)\b|\b(?:no|nope|nah|nay|never ?mind|cancel that|forget (?:it|that)|"
    r"stop|hold on|wait|negative|no thanks|no thank you|i'?d rather not|rather not|absolutely not|"
    # Spanish, French, German
    r"mejor no|para nada|non|non merci|pas question|nein|nein danke|lieber nicht)\b|"
    r"👎|❌",
    re.IGNORECASE,
)
_AFFIRMATIVE = re.compile(
    r"\b(?:yes|yeah|yea|yep|yup|ya|yas|sure|ok|okay|okey|alright|all right|absolutely|definitely|"
    r"certainly|of course|please do|go ahead|go for it|do it|confirm(?:ed)?|correct|that'?s right|"
    r"right|exactly|sounds good|sounds great|perfect|affirmative|agreed|i agree|proceed|yes please|"
    # Spanish, French, German
    r"sí|si|claro|vale|de acuerdo|adelante|oui|d'accord|bien sûr|volontiers|allez-y|ja|jawohl|gerne|genau|"
    r"einverstanden|klar|ja bitte)\b|"
    r"👍|✅",
    re.IGNORECASE,
)
_SINGLE_LETTER = re.compile(r"^\s*([yYnNkK])\s*[.!]*\s*$")


# A legal or chargeback threat is a matter for a person: it routes the turn to a hand-off, and it is
# never the answer to "shall I go ahead?" ("do it now or my lawyer will be in touch").
_THREAT = re.compile(
    r"\b(?:charge ?backs?|dispute (?:the|this|that|a|my)\s+(?:charge|payment|transaction)|"
    r"reverse the (?:charge|payment)|lawyers?|attorneys?|solicitors?|"
    r"(?:i'?ll|i will|i'?m going to|going to|gonna|will|to)\s+sue|suing|lawsuit|legal action|"
    r"small claims|(?:see|take) you (?:in|to) court|trading standards)\b",
    re.IGNORECASE,
)


def is_threat(text: str) -> bool:
    """Whether the message threatens legal action or a chargeback (auto-escalation, never a yes)."""
    return bool(_THREAT.search(text))


# A decline that keeps things as they are ("keep it as it is", "leave it"), even after a "hmm".
_KEEP_AS_IS = re.compile(
    r"\b(?:keep|leave)\s+(?:it|them|the order|my order|everything|things)\s+(?:as\s+(?:it\s+|they\s+)?(?:is|are)|"
    r"the way (?:it|they) (?:is|are)|alone|unchanged)\b|\bi'?ll keep (?:it|them)\b|"
    r"\bleave it\b(?!\s+(?:at|by|with|outside|in|on|to)\b)|\bno changes?\b",
    re.IGNORECASE,
)


def _yes_no(text: str) -> bool | None:
    """True for a clear yes, False for a clear no, None when neither, both or unsure."""
    if is_threat(text):
        return None
    if _KEEP_AS_IS.search(text):
        return False
    letter = _SINGLE_LETTER.match(text)
    if letter:
        return letter.group(1).lower() != "n"
    if _UNSURE.search(text):
        return None
    cleaned = _NOT_A_NO.sub(" ", text)
    no = bool(_NEGATIVE.search(cleaned))
    yes = bool(_AFFIRMATIVE.search(_NEGATIVE.sub(" ", cleaned)))
    if yes == no:
        return None
    return yes


# "no wait, I'd rather return it", "actually can I get a refund instead": not only a no, a new ask.
_CHANGE_OF_MIND = re.compile(
    r"\b(?:rather|instead|prefer|switch|actually (?:i|can|could|let'?s|just)|change (?:it|that) to)\b",
    re.IGNORECASE,
)
_NEW_ASK = re.compile(
    r"\b(?:return|send (?:it|them) back|refund|money back|cancel|label|exchange|track|address|ship|deliver)\w*",
    re.IGNORECASE,
)


def changes_request(text: str) -> bool:
    """Whether the message turns the request into another one ("actually I'd rather return it"):
    an answer to "shall I go ahead?" that declines and asks for something else."""
    return bool(_CHANGE_OF_MIND.search(text) and _NEW_ASK.search(text))


def is_affirmative(text: str) -> bool:
    """Whether the message clearly says yes ("yes please", "yep go ahead", "sure").

    A message saying both ("yes, but don't charge me") or hesitating ("maybe") is neither
    affirmative nor negative.
    """
    return _yes_no(text) is True


def is_negative(text: str) -> bool:
    """Whether the message clearly says no ("no", "nope", "don't", "cancel that")."""
    return _yes_no(text) is False


# --------------------------------------------------------------------------------------------
# Order change kind
# --------------------------------------------------------------------------------------------

_NEGATED_CANCEL = re.compile(
    r"\b(?:don'?t|do not|dont|not|never|no need to|without)\s+(?:\w+\s+){0,2}cancel\w*", re.IGNORECASE
)
_CANCEL = re.compile(
    r"\b(?:cancel\w*|cancle\w*|void|call off|scrap|kill|annul\w*|stornier\w*|storno)\b|"
    r"\bdon'?t want (?:it|the order|this order|"
    r"them) any ?more\b",
    re.IGNORECASE,
)
# "Don't ship it" / "stop the shipment" mean cancel on their own, but only "hold it" when the
# shopper also talks about the address ("wait, don't ship it, the address is wrong").
_HOLD = re.compile(r"\b(?:don'?t|do not) (?:ship|send)\b|\bstop (?:the|my) (?:order|shipment)\b", re.I)
_ADDRESS = re.compile(
    r"\b(?:address|adress|addres|zip(?: code)?|postcode|postal code|street|apartment|apt|unit number|"
    r"house number|ship (?:it )?to|send (?:it )?to|deliver (?:it )?to|redirect|reroute|moved)\b|"
    # "ship 1004 to ...", "send it somewhere else", "can it go to my office instead?"
    r"\b(?:ship|send|deliver|post|mail)(?:ped|ing|ed)?\s+(?:it|them|the order|my order|the parcel|order|"
    r"the package)?\s*#?\d{0,9}\s*(?:to|somewhere else|elsewhere|to a different|to another)\b|"
    r"\b(?:go|goes|going|come|be (?:sent|delivered|shipped))\s+(?:to (?:my|our|a|the) (?:office|work|workplace|new|"
    r"parents?|friend'?s?|neighbou?r'?s?|other|different)\w*|somewhere else|elsewhere)\b|\bsomewhere else\b|"
    r"\b(?:new|different|another|other) (?:delivery |shipping )?(?:address|location|place)\b|\bi'?m moving\b|"
    r"\b(?:dirección|adresse|lieferadresse|anschrift)\b",
    re.IGNORECASE,
)


def order_change_kind(text: str) -> OrderChangeKind | None:
    """Whether an order-change request is a cancellation or an address change.

    A negated cancellation ("don't cancel it, just fix the address") does not count. When both
    are asked for, the one mentioned first wins; ``None`` when neither is recognisable.
    """
    cleaned = _NEGATED_CANCEL.sub(" ", text)
    cancel = _CANCEL.search(cleaned)
    address = _ADDRESS.search(cleaned)
    if cancel and address:
        return "cancel" if cancel.start() <= address.start() else "address"
    if address:
        return "address"
    if cancel or _HOLD.search(cleaned):
        return "cancel"
    return None


# --------------------------------------------------------------------------------------------
# Splitting multi-request messages
# --------------------------------------------------------------------------------------------

# Cue words per request kind; a clause is a request of its own only if it carries a cue.
_REQUEST_CUES: Final[dict[str, re.Pattern[str]]] = {
    "wismo": re.compile(
        r"\b(?:where(?:'?s| is| are)|where\b(?= (?:#|order|my|the))|track\w*|arriv\w*|shipped|"
        r"deliver(?:ed|y)|package|parcel|eta|status of|hasn'?t (?:come|arrived))\b",
        re.I,
    ),
    "returns": re.compile(r"\b(?:return\w*|send (?:it |them )?back|exchange|swap)\b", re.I),
    "refunds": re.compile(r"\b(?:refund\w*|money back|charged|reimburs\w*)\b", re.I),
    "order_change": re.compile(
        r"\b(?:cancel\w*|(?:change|update|fix|correct) (?:the |my )?(?:shipping |delivery )?address|"
        r"wrong address)\b",
        re.I,
    ),
    "escalation": re.compile(
        r"\b(?:human|manager|supervisor|real person|agent|representative|chargeback)\b", re.I
    ),
}
_SENTENCE_BREAK = re.compile(r"(?<=[.!?;])\s+")
# "also" and "then" only separate after a comma; bare they are adverbs ("I also want").
_CONJUNCTION = re.compile(
    r"(?:,\s*|\s+)(?:and also|and then|and|plus|as well as|but also|but)\s+|,\s*(?:also|then)\s+",
    re.IGNORECASE,
)
# Returning an item and getting the money back is one flow, not two requests.
_ONE_FLOW: Final[frozenset[str]] = frozenset({"returns", "refunds"})


def _cues(clause: str) -> frozenset[str]:
    return frozenset(kind for kind, pattern in _REQUEST_CUES.items() if pattern.search(clause))


def _distinct(left: str, right: str) -> bool:
    """Whether two adjacent pieces are separate requests rather than parts of one."""
    left_cues, right_cues = _cues(left), _cues(right)
    if not left_cues or not right_cues:
        return False
    left_orders, right_orders = extract_all_order_numbers(left), extract_all_order_numbers(right)
    if left_orders and right_orders and set(left_orders).isdisjoint(right_orders):
        return True  # "where is #1001 and where is #1002": same kind, different orders
    return left_cues != right_cues and not left_cues | right_cues <= _ONE_FLOW


def split_requests(text: str) -> list[str]:
    """Split a message carrying several requests into one clause per request.

    "where is #1001 and I also want to return #1002" → ["where is #1001", "I want to return
    #1002"]. A message with one request comes back whole, even with an "and" in it ("I want to
    return the mug and the shirt", "where is my order and when will it arrive"). Pieces without
    a request cue ("Hi!", "thanks") stay attached to a neighbour. Empty text gives ``[]``.
    """
    stripped = " ".join(text.split())
    if not stripped:
        return []
    # Pieces are (start, end) spans of ``stripped``, so clauses keep the shopper's own wording.
    separators = sorted(
        {(m.start(), m.end()) for m in _SENTENCE_BREAK.finditer(stripped)}
        | {(m.start(), m.end()) for m in _CONJUNCTION.finditer(stripped)}
    )
    spans: list[tuple[int, int]] = []
    position = 0
    for start, end in separators:
        if start > position:
            spans.append((position, start))
        position = max(position, end)
    if position < len(stripped):
        spans.append((position, len(stripped)))

    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and not _distinct(stripped[merged[-1][0] : merged[-1][1]], stripped[start:end]):
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return [_tidy(stripped[start:end]) for start, end in merged]


def _tidy(clause: str) -> str:
    """Trim separators and the "also" that only made sense inside the longer message."""
    clause = clause.strip(" ,;")
    clause = re.sub(r"\b(i)\s+also\s+", r"\1 ", clause, flags=re.IGNORECASE)
    return re.sub(r"^(?:also|and|plus)\s+", "", clause, flags=re.IGNORECASE).strip()
