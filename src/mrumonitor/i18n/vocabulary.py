"""The platform's vocabulary in words, in the user's language: registration classes, licence types and
statuses, commodities, alert kinds, confidence levels and country names.

Data keep their canonical codes (``no_licence``, ``SLE``): exports, filters and the catalogue of layers use
them. Whatever shows a code to a person shows `word(kind, code)` instead; a code the vocabulary does not know
is shown as it is (a deployment's own licence type, say).
"""

from __future__ import annotations

from mrumonitor.i18n import N_, _
from mrumonitor.schema import ALERT_KIND_WORDS

#: Each kind of code, and the English words of its codes (marked for the catalogue).
WORDS: dict[str, dict[str, str]] = {
    "registration": {
        "registered": N_("registered"),
        "expired_licence": N_("expired licence"),
        "suspended": N_("suspended licence"),
        "wrong_commodity": N_("wrong commodity"),
        "exploration_only": N_("exploration licence only"),
        "no_licence": N_("no licence"),
        "not_assessed": N_("not assessed (no cadastre held)"),
        "verified_not_mining": N_("verified not mining (field-checked false positive)"),
    },
    "licence_type": {
        "artisanal": N_("artisanal"),
        "small_scale": N_("small-scale"),
        "large_scale": N_("large-scale"),
        "exploration": N_("exploration"),
        "reconnaissance": N_("reconnaissance"),
        "other": N_("other"),
    },
    "licence_status": {
        "active": N_("active"),
        "expired": N_("expired"),
        "suspended": N_("suspended"),
        "pending": N_("pending"),
        "unknown": N_("unknown"),
    },
    "confidence": {"high": N_("high"), "medium": N_("medium"), "low": N_("low")},
    "commodity": {"diamond": N_("diamond"), "gold": N_("gold"), "other": N_("other minerals")},
    # what a field team saw at a site (schema.COMMODITIES_SEEN)
    "commodity_seen": {"diamond": N_("diamond"), "gold": N_("gold"), "other": N_("other minerals"),
                       "none": N_("no mineral seen"), "unknown": N_("not known")},
    "country": {
        "SLE": N_("Sierra Leone"),
        "GIN": N_("Guinea"),
        "LBR": N_("Liberia"),
        "CIV": N_("Côte d'Ivoire"),
        "GHA": N_("Ghana"),
    },
    # the same words as schema.ALERT_KIND_WORDS (digests, feeds and the CLI say them in English)
    "alert_kind": {
        "new_site": N_("New mining site"),
        "growth": N_("Mining site grew"),
        "new_unregistered_border": N_("New unregistered mining in the border zone"),
        "licence_breach": N_("Mining inside a licence that does not allow it"),
        "verified_resumed": N_("Verified mining site active again"),
    },
}
assert WORDS["alert_kind"] == ALERT_KIND_WORDS, "alert kinds in words differ from schema.ALERT_KIND_WORDS"


def word(kind: str, code: object) -> str:
    """`code` of `kind` (a key of `WORDS`) in words in the current language; the code itself if unknown."""
    english = WORDS[kind].get(str(code))
    return _(english) if english is not None else str(code)


def words(kind: str) -> dict[str, str]:
    """Every code of `kind` with its words in the current language (for dropdowns and legends)."""
    return {code: _(english) for code, english in WORDS[kind].items()}
