"""The vocabulary of French legal texts, declared once: natures, Légifrance identifier
families, month names, and the codes of law with the abbreviations people type for them.

Data only; `indexer.enrich.legal` finds and keys references with it, the search expands
abbreviations and code names with it, the citations label keys with it.
"""

from __future__ import annotations

# Natures, as keyed (ASCII) and as shown to users (doc_type facet values).
NATURE_LABELS = {
    "loi": "loi",
    "ordonnance": "ordonnance",
    "decret": "décret",
    "arrete": "arrêté",
    "circulaire": "circulaire",
    "decision": "décision",
    "deliberation": "délibération",
    "avis": "avis",
    "instruction": "instruction",
}
# Natures whose numbers share one yearly sequence (since 1993), so a bare number is unambiguous.
NUMBERED_NATURES = ("loi", "ordonnance", "decret")
# Légifrance identifier families worth a key of their own.
LEGIFRANCE_ID_PREFIXES = ("JORFTEXT", "JORFARTI", "JORFCONT", "LEGITEXT", "LEGIARTI", "LEGISCTA",
                          "KALITEXT", "CNILTEXT", "JURITEXT", "CETATEXT")
LEGIFRANCE = "https://www.legifrance.gouv.fr"

MONTHS = {"janvier": 1, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6, "juillet": 7,
          "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11, "decembre": 12}

# Codes cited in the centre's field; anything else spelled "code de/du/des ..." is caught by
# CODE_GENERIC but only up to a few words, since prose runs on after the name.
KNOWN_CODES = (
    "code de l'urbanisme", "code de la construction et de l'habitation",
    "code général des collectivités territoriales", "code de l'action sociale et des familles",
    "code de l'environnement", "code civil", "code pénal", "code de commerce", "code du travail",
    "code de l'éducation", "code de la sécurité sociale", "code de la santé publique",
    "code général des impôts", "code de justice administrative", "code de procédure civile",
    "code de procédure pénale", "code de l'expropriation pour cause d'utilité publique",
    "code de l'entrée et du séjour des étrangers et du droit d'asile",
    "code général de la propriété des personnes publiques", "code rural et de la pêche maritime",
    "code des transports", "code de l'énergie", "code électoral", "code de la commande publique",
    "code des relations entre le public et l'administration", "code du patrimoine",
    "code du tourisme", "code forestier", "code de la consommation", "code monétaire et financier",
    "code des assurances", "code de la route", "code de la sécurité intérieure",
    "code de la défense", "code minier", "code du sport", "code de la voirie routière",
    "code des postes et des communications électroniques", "code général de la fonction publique",
    "code de l'organisation judiciaire", "code de la mutualité", "code des juridictions financières",
    "code du cinéma et de l'image animée", "code de la propriété intellectuelle",
    "code des marchés publics", "code du domaine public fluvial et de la navigation intérieure",
    "code du domaine public fluvial", "code des communes", "code des procédures civiles d'exécution",
    "code de l'aviation civile", "code du domaine de l'état", "code de l'artisanat",
)

# The usual abbreviations of codes, as people type them in a search (`art. L. 631-7 CCH`).
CODE_ABBREVIATIONS = {
    "CCH": "code de la construction et de l'habitation",
    "CGCT": "code général des collectivités territoriales",
    "CASF": "code de l'action sociale et des familles",
    "CSP": "code de la santé publique",
    "CSS": "code de la sécurité sociale",
    "CGI": "code général des impôts",
    "CJA": "code de justice administrative",
    "CPI": "code de la propriété intellectuelle",
    "CRPA": "code des relations entre le public et l'administration",
    "CESEDA": "code de l'entrée et du séjour des étrangers et du droit d'asile",
    "CGPPP": "code général de la propriété des personnes publiques",
    "CCP": "code de la commande publique",
    "CMF": "code monétaire et financier",
    "CRPM": "code rural et de la pêche maritime",
    "CSI": "code de la sécurité intérieure",
    "CPP": "code de procédure pénale",
    "CPC": "code de procédure civile",
    "COJ": "code de l'organisation judiciaire",
    "CGFP": "code général de la fonction publique",
}
