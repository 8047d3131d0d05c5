"""Whether a message is about shopping at all: the out-of-scope gate of the offline model.

The intent classifier only knows the store's intents and "other", so a general question ("when did
the Titanic sink?", "will it rain tomorrow?") still lands on whichever store intent its words lean to,
and the shopper is asked for an order number. A store request nearly always names something of the
store's world: an order, a parcel, a refund, an item, a card, the team. A message that names none of
it and that the classifier is not sure about (below `SURE`) is treated as out of scope and gets the
friendly redirect instead. `SURE` was calibrated on the classifier's held-out split and 212 general
questions (`evals/data/general_questions.txt`, never trained on): see `support-agent eval intents`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from agent.offline.nlu.classifier import IntentPrediction, normalise_text

# Below this confidence a store intent needs a store word to count.
SURE: Final[float] = 0.8

_STORE_WORDS: Final[re.Pattern[str]] = re.compile(
    r"\b(?:orders?|ordered|ordertoken|numtoken|emailtoken|moneytoken|purchas\w*|bought|buy\w*|package\w*|parcel\w*|"
    r"pkg|deliver\w*|ship\w*|track\w*|courier|carrier|driver|ups|usps|fedex|dhl|post\w*|mail\w*|arriv\w*|come|"
    r"came|coming|stuff|return\w*|back|send\w*|sent|refund\w*|money|cash|reimburs\w*|credit\w*|cancel\w*|"
    r"address\w*|items?|products?|size\w*|label|exchange|swap|charg\w*|paid|pay\w*|card|gift|discount|promo|"
    r"coupon|voucher|code|store|shop\w*|sell|sale|final|polic\w*|warranty|receipt|invoice|damaged|broken|wrong|"
    r"missing|late|lost|stolen|account|faq|hours|open|contact|support|customer|team|email|phone|human|person|"
    r"agent|manager|material\w*|shirt|shoes?|mug|jacket|hat|socks?|bottle|lantern|candle|blanket|backpack|"
    # Spanish, French, German
    r"pedidos?|paquete|envío|envio|devol\w*|reembols\w*|dinero|cancel\w*|dirección|persona|commandes?|colis|"
    r"livraison|retour\w*|renvoy\w*|rembours\w*|annul\w*|adresse|bestellung\w*|paket\w*|lieferung|sendung\w*|"
    r"rücksend\w*|zurück\w*|erstatt\w*|geld|stornier\w*|mitarbeiter|mensch\w*|"
    # ... and the store questions of the help pages (prompts/knowledge/<lang>/)
    r"tarjetas?|regalo|descuentos?|pag(?:o|os|ar)|tienda|venta|tallas?|caduc\w*|envíos|envios|enviáis|"
    r"cartes?|cadeaux?|paiement|payer|boutique|magasin|vente|tailles?|réduction|frais|livr\w*|expir\w*|"
    r"geschenkkarte\w*|gutschein\w*|zahlung\w*|bezahl\w*|versand\w*|versend\w*|liefer\w*|verkauf\w*|"
    r"rabatt\w*|kundenservice|ladengeschäft|transportistas?|horarios?|atención al cliente|transporteurs?|"
    r"service client|paketdienst\w*|versanddienstleister\w*|öffnungszeiten)\b"
)


def names_the_store(text: str) -> bool:
    """Whether the message names anything of the store's world (an order, a parcel, a refund ...)."""
    return bool(_STORE_WORDS.search(normalise_text(text)))


def out_of_scope(text: str, intent: str, confidence: float) -> bool:
    """A store intent the classifier guessed for a message that is not about the store."""
    if intent in ("other", "escalation"):
        return False
    return confidence < SURE and not names_the_store(text)


def within_scope(texts: Sequence[str], predictions: list[IntentPrediction]) -> list[IntentPrediction]:
    """The predictions with every out-of-scope guess turned into ``other``."""
    return [
        IntentPrediction(
            intent="other", confidence=round(1.0 - p.confidence, 4), probabilities=p.probabilities
        )
        if out_of_scope(text, p.intent, p.confidence)
        else p
        for text, p in zip(texts, predictions, strict=True)
    ]
