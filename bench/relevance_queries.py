"""The judged queries of `bench/relevance.py`, written from the shared code articles.

A known item names one article (`files`, a path ending) and the one `extra` word of the
query the article does not hold (the benchmark checks both). A reference names the article
it means (`files`, grade 2) and, for a number without its code, the same number in other
codes (`also`, file names, grade 1). A topic's relevant articles are those whose text
matches `pattern` (folded: lower case, no accents).
"""

from __future__ import annotations

from dataclasses import dataclass

CCH = "code-de-la-construction-et-de-l-habitation/"
URB = "code-de-l-urbanisme/"
CGCT = "codes-en-vigueur/code-general-des-collectivites-territoriales/"
CASF = "code-de-l-action-sociale-et-des-familles/"


@dataclass(frozen=True)
class Judged:
    kind: str
    q: str
    files: tuple[str, ...] = ()
    also: tuple[str, ...] = ()
    pattern: str = ""
    extra: str = ""


def known(q: str, file: str, extra: str) -> Judged:
    return Judged("known item", q, files=(file,), extra=extra)


def ref(q: str, *files: str, also: tuple[str, ...] = ()) -> Judged:
    return Judged("reference", q, files=files, also=also)


def topic(q: str, pattern: str) -> Judged:
    return Judged("topic", q, pattern=pattern)


QUERIES = (
    # ---------------------------------------------------------------- known items: five words, one
    # of which the article does not use, as a professional types them
    known("conseil concertation comité résidents migrants", "article-l633-4.md", "migrants"),
    known("équipements communs immeuble maire ascenseur", "article-r-129-2.md", "ascenseur"),
    known("rapport politique ville Polynésie jeunesse", "article-l1811-2.md", "jeunesse"),
    known("contrôle logement social Caisse garantie HLM", "article-l342-3.md", "HLM"),
    known("commune 10 000 habitants services déconcentrés urbanisme", "article-l422-8.md", "urbanisme"),
    known("terrains acquis ouverts public pique-nique", "article-l142-10.md", "pique-nique"),
    known("schéma aménagement régional mise en valeur de la mer tourisme", "article-l4433-15.md", "tourisme"),
    known("annonces vente lot copropriété agence", "article-l721-1.md", "agence"),
    known("protection solaire ventilation naturelle climatisation chaleur", "article-r162-1.md", "chaleur"),
    known("servitude indemnité dommage forclusion littoral", "article-l160-7.md", "littoral"),
    known("permis de construire lotissement cinq ans recours", "article-l442-14.md", "recours"),
    known("majoration volume constructible logements sociaux bonus", "article-l127-1.md", "bonus"),
    known("campagne référendum partis politiques propagande", "article-lo1112-10.md", "propagande"),
    known("subvention opérations Agence nationale habitat bidonvilles", "article-d-522-1.md", "bidonvilles"),
    known("Paris-Saclay pôle scientifique technologique université", "article-l321-37.md", "université"),
    known("numéro enregistrement treize chiffres formulaire", "article-a423-3.md", "formulaire"),
    known("riverains chemins de fer obligation servitude",
          CCH + "partie-legislative/livre-ier/titre-ier/chapitre-ii/section-1/article-l112-2.md", "servitude"),
    known("commune substituer copropriétaires défaillants ravalement", "article-r511-9.md", "ravalement"),
    known("garantie remboursement cautionnement acquéreur notaire", "article-r-261-22.md", "notaire"),
    known("Caisse garantie logement locatif social ANCOLS", "article-l342-3.md", "ANCOLS"),
    known("retrait agrément organisme collecteur liquidateur Action", CCH + "partie-legislative/livre-iii/"
          "titre-ier/chapitre-iii/section-2/article-l313-14.md", "Action"),
    known("agglomération nouvelle conseil administration représentants communes tramway",
          "article-l321-25.md", "tramway"),
    known("documents urbanisme effets notables environnement autre Etat frontière", "article-l121-13.md",
          "frontière"),
    known("régions actions environnement cadre de vie conseil culture biodiversité", "article-l4433-31.md",
          "biodiversité"),
    known("propriétaire mandataire suppléant autorité administrative syndic", "article-r122-14.md", "syndic"),
    known("activité professionnelle local habitation résidence principale télétravail",
          "article-l631-7-3.md", "télétravail"),
    known("bailleur congé locataire trois offres relogement démolition expulsion", "article-l481-3.md",
          "expulsion"),
    known("lotisseur vente lots avant exécution travaux garantie", "article-a424-11.md", "garantie"),
    known("promoteur signature contrat versement dépôt maître ouvrage acompte", "article-l222-5.md", "acompte"),
    known("commission de sécurité visite réception établissements public pompiers", "article-r-123-45.md",
          "pompiers"),
    # ---------------------------------------------------------------- references as people write them
    ref("article L. 142-13 du code de l'urbanisme", URB + "partie-legislative/livre-i/titre-iv/chapitre-ii/article-l142-13.md"),
    ref("L.142-13", URB + "partie-legislative/livre-i/titre-iv/chapitre-ii/article-l142-13.md"),
    ref("L 142-13 urbanisme", URB + "partie-legislative/livre-i/titre-iv/chapitre-ii/article-l142-13.md"),
    ref("art. L. 631-7 CCH", CCH + "partie-legislative/livre-vi/titre-iii/chapitre-ier/section-2/article-l631-7.md"),
    ref("L631-7 code de la construction et de l'habitation",
        CCH + "partie-legislative/livre-vi/titre-iii/chapitre-ier/section-2/article-l631-7.md"),
    ref("R*129-2", "article-r-129-2.md"),
    ref("R. 129-2 CCH", "article-r-129-2.md"),
    ref("LO 1112-10", CGCT + "partie-legislative/premiere-partie/livre-ier/titre-unique/chapitre-ii/section-1/"
        "sous-section-2/article-lo1112-10.md"),
    ref("article LO1112-10 CGCT", CGCT + "partie-legislative/premiere-partie/livre-ier/titre-unique/chapitre-ii/"
        "section-1/sous-section-2/article-lo1112-10.md"),
    ref("article L121-2", CASF + "partie-legislative/livre-ier/titre-ii/chapitre-ier/section-1/article-l121-2.md",
        URB + "partie-legislative/livre-i/titre-ii/chapitre-i/article-l121-2.md", also=("article-l121-2.md",)),
    ref("article L. 121-2 du code de l'action sociale et des familles",
        CASF + "partie-legislative/livre-ier/titre-ii/chapitre-ier/section-1/article-l121-2.md"),
    ref("L. 121-2 CASF", CASF + "partie-legislative/livre-ier/titre-ii/chapitre-ier/section-1/article-l121-2.md"),
    ref("article L300-1 du code de l'urbanisme", URB + "partie-legislative/livre-iii/article-l300-1.md"),
    ref("L. 600-5-1 code de l'urbanisme", URB + "partie-legislative/livre-vi/article-l600-5-1.md"),
    ref("L.351-2 CCH", CCH + "partie-legislative/livre-iii/titre-v/chapitre-ier/article-l351-2.md"),
    ref("article L. 411-2 du CCH", CCH + "partie-legislative/livre-iv/titre-ier/chapitre-unique/article-l411-2.md"),
    ref("L313-34", "article-l313-34.md"),
    ref("L. 511-2", CCH + "partie-legislative/livre-v/titre-ier/chapitre-ier/article-l511-2.md",
        also=("article-l511-2.md",)),
    ref("*R162-1", "article-r162-1.md"),
    ref("R162-1 construction habitation outre-mer", "article-r162-1.md"),
    # ---------------------------------------------------------------- topics
    topic("logement social", r"logements? sociaux|logements? social"),
    topic("logements sociaux Martinique", r"(?s)logements? sociaux.*martinique|martinique.*logements? sociaux"),
    topic("collectivité territoriale de Martinique", r"collectivite territoriale de martinique"),
    topic("quartiers prioritaires de la politique de la ville", r"quartiers? prioritaires? de la politique de la ville"),
    topic("QPV", r"quartiers? prioritaires?"),
    topic("contrat de ville", r"contrats? de ville"),
    topic("rénovation urbaine", r"renovation urbaine"),
    topic("NPNRU", r"nouveau programme national de renouvellement urbain"),
    topic("habitat insalubre", r"habitat insalubre|insalubrite"),
    topic("copropriétés dégradées", r"coproprietes? (?:en difficulte|degradees?)"),
    topic("agence nationale de l'habitat", r"agence nationale de l'habitat"),
    topic("établissement public de coopération intercommunale", r"etablissements? publics? de cooperation intercommunale"),
)
