"""A seeded, realistic French corpus of `Document`s for the benchmarks, cached between runs.

Document i depends only on (seed, i), so the 10k corpus is the prefix of the 50k one and
the "incremental batch" of a benchmark is simply documents N..N+99 of the same generator.
Word frequencies follow a Zipf law over a French vocabulary (urban-policy terms, accents,
ligatures, a long tail of rarer words), bodies are 100-2,000 words (log-normal, median
about 400), and a share of documents cite laws and decrees, as legal news does.
Pure standard library; the whole generation is a few random.choices calls per document.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import math
import multiprocessing
import os
import pickle
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from veille.core.records import KINDS, Document, document_id  # noqa: E402,F401 (KINDS: the kinds the corpus draws)

CACHE_DIR = Path(__file__).resolve().parent / ".cache"
DEFAULT_SEED = 20261126
SIZES = (10_000, 100_000, 1_000_000)
SHARD = 10_000       # documents a cached file holds; the unit of resuming
PROCS = 2

# The common words of French prose (stop words included: they are most of real text).
FUNCTION_WORDS = """
de la le les des du un une et à en pour dans sur par au aux avec est sont a ont qui que
ce cette ces il elle ils elles on nous vous leur leurs son sa ses plus ne pas été être
tout tous toute toutes entre sans sous ainsi comme mais ou où dont si également notamment
afin lors depuis selon après avant vers chez contre dès
""".split()

# Vocabulary of the domain, accents kept; order matters little, Zipf ranks are shuffled.
DOMAIN_WORDS = """
politique ville quartier quartiers prioritaire prioritaires habitants habitant rénovation
urbaine urbain urbaines urbains renouvellement logement logements social sociaux sociale
sociales habitat contrat contrats cohésion territoriale territoire territoires collectivité
collectivités commune communes intercommunalité agglomération métropole département région
préfecture préfet État ministère ministre agence nationale programme programmes projet
projets convention conventions financement financements crédits subvention subventions
appel candidatures dispositif dispositifs action actions acteurs associations association
éducation école écoles collège collèges réussite éducative jeunesse jeunes emploi insertion
professionnelle formation chômage entreprises entreprise économie économique développement
santé accès soins prévention sécurité tranquillité publique délinquance médiation culture
sport participation citoyenne conseil conseils citoyens démocratie concertation diagnostic
évaluation observatoire indicateurs données statistiques population pauvreté revenus
précarité inégalités discriminations égalité femmes hommes familles enfants personnes âgées
handicap mobilité transports déplacements équipements espaces publics aménagement
urbanisme foncier bailleurs copropriétés dégradées insalubre insalubrité résorption
démolition reconstruction réhabilitation relogement mixité gestion proximité services
numérique inclusion lien outre-mer ultramarin ultramarins Antilles Caraïbe littoral risques
naturels séismes cyclones submersion adaptation changement climatique transition écologique
énergétique rénovation énergétique précarité énergétique eau assainissement déchets
agriculture tourisme commerce centre-ville revitalisation cœur bourg bourgs patrimoine
créole mémoire œuvre rapport rapports étude études guide guides fiche fiches expérience
expériences compte-rendu séminaire rencontre rencontres réseau ressources centre
professionnels ingénierie pilotage gouvernance partenaires partenariat signataires
délibération arrêté décret loi lois ordonnance circulaire instruction article articles
dispositions modification application publication journal officiel code collectivités
territoriales construction alinéa annexe mesures mesure réforme budget dotation
solidarité péréquation fonds européen FEDER FSE Europe plan plans stratégie schéma
orientations objectifs enjeux résultats bilan suivi mise œuvre année années mois
semaine premier première nouveau nouvelle nouvelles grand grande grands grandes
national locale local locaux communal intercommunal régional départemental
""".split()

COMMUNES = (
    "Fort-de-France", "Le Lamentin", "Le Robert", "Schœlcher", "Sainte-Marie", "Le François",
    "Ducos", "Saint-Joseph", "Rivière-Pilote", "La Trinité", "Le Marin", "Rivière-Salée",
    "Sainte-Luce", "Le Vauclin", "Saint-Esprit", "Les Trois-Îlets", "Le Lorrain", "Le Diamant",
    "Gros-Morne", "Le Carbet", "Case-Pilote", "Le Morne-Rouge", "Basse-Pointe", "Sainte-Anne",
    "Le Saint-Pierre", "Les Anses-d'Arlet", "Le Marigot", "Ajoupa-Bouillon", "Bellefontaine",
    "Le Prêcheur", "Macouba", "Fonds-Saint-Denis", "Grand'Rivière", "Morne-Vert",
)
QPV = (
    "Volga-Plage", "Trénelle-Citron", "Terres-Sainville", "Sainte-Thérèse", "Dillon",
    "Bon-Air", "Haut-du-Bourg", "Frange Ouest du Centre-Ville", "Quartier Bas Mission",
    "Bourg du Lamentin", "Quartier Place d'Armes", "Cité Bon Repos", "Quartier Trou-Vaillant",
    "Centre-bourg du Robert", "Quartier Basse-Gondeau", "Pointe de la Vierge",
)
THEMES = (
    "habitat et renouvellement urbain", "emploi et insertion", "éducation", "santé",
    "sécurité et prévention", "cohésion sociale", "participation des habitants",
    "développement économique", "culture et sport", "transition écologique",
)
SOURCES = (
    ("legifrance-jorf", "juridique"), ("vie-publique-lois", "juridique"),
    ("vie-publique-actualites", "actualité"), ("anct-actualites", "actualité"),
    ("outre-mer-gouv", "actualité"), ("martinique-prefecture", "actualité"),
    ("ctm-martinique", "actualité"), ("insee-publications", "publication"),
    ("cour-des-comptes", "publication"), ("onpv-rapports", "publication"),
    ("Bibliothèque", "bibliothèque"), ("cacem-pages", "page modifiée"),
)
DOC_TYPES = ("guide", "fiche d'expérience", "compte-rendu", "étude", "décret", "loi", "arrêté",
             "rapport", "article", "")
TITLE_HEADS = (
    "Rapport sur", "Guide pratique de", "Fiche d'expérience :", "Compte-rendu du séminaire sur",
    "Étude relative à", "Décret relatif à", "Arrêté portant sur", "Appel à projets pour",
    "Bilan annuel de", "Les enjeux de", "Nouvelle convention pour", "Lancement du programme de",
)
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre")

_SYLLABLES = ("ba be bi bo bu ca cé ci co cu da dé di do du fa fé fi fo ga gé gi go la lé li lo "
              "lu ma mé mi mo mu na né ni no nu pa pé pi po pu ra ré ri ro ru sa sé si so su ta "
              "té ti to tu va vé vi vo tion ment eur ise ité ance age ière ète œu ain oi ou an "
              "on in").split()
TAIL_SIZE = 20_000      # rare words: real corpora have a long tail of terms
START = datetime(2012, 1, 1, tzinfo=timezone.utc)
SPAN_DAYS = 15 * 365


def _vocabulary(seed: int) -> tuple[list[str], list[float]]:
    """Words in Zipf order with cumulative weights; the head is function and domain words."""
    rng = random.Random(seed)
    head = list(dict.fromkeys(FUNCTION_WORDS))
    domain = list(dict.fromkeys(DOMAIN_WORDS))
    rng.shuffle(domain)
    tail: set[str] = set()
    while len(tail) < TAIL_SIZE:
        tail.add("".join(rng.choices(_SYLLABLES, k=rng.randint(2, 4))))
    rare = sorted(tail)
    rng.shuffle(rare)
    words = head + domain + rare
    known = len(head) + len(domain)
    # Zipf over ranks; the invented tail is damped so it makes ~20% of the words, not 40%
    weights = (1.0 / (rank + 2.7) * (1.0 if rank < known else 0.35) for rank in range(len(words)))
    cumulative = list(itertools.accumulate(weights))
    return words, cumulative


_TOPIC_WORDS = tuple(w for w in dict.fromkeys(DOMAIN_WORDS) if w.islower() and len(w) > 3)
_VOCAB: dict[int, tuple[list[str], list[float]]] = {}


def vocabulary(seed: int = DEFAULT_SEED) -> tuple[list[str], list[float]]:
    if seed not in _VOCAB:
        _VOCAB[seed] = _vocabulary(seed)
    return _VOCAB[seed]


# The texts the centre's users actually look up (Lamy, Égalité et citoyenneté, ELAN, 3DS ...)
WELL_KNOWN_REFERENCES = (
    "loi n° 2014-173 du 21 février 2014", "loi n° 2017-86 du 27 janvier 2017",
    "loi n° 2018-1021 du 23 novembre 2018", "loi n° 2022-217 du 21 février 2022",
    "décret n° 2020-1576", "décret n° 2014-1750", "décret n° 2023-1314",
)


def _legal_reference(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return rng.choice(WELL_KNOWN_REFERENCES)
    year = rng.randint(2000, 2026)
    if rng.random() < 0.5:
        day, month = rng.randint(1, 28), rng.choice(MONTHS)
        return f"loi n° {year}-{rng.randint(1, 1800)} du {day} {month} {year}"
    return f"décret n° {year}-{rng.randint(1, 1800)}"


def _body(rng: random.Random, words: list[str], cumulative: list[float], length: int,
          places: list[str]) -> str:
    tokens = rng.choices(words, cum_weights=cumulative, k=length)
    # sprinkle the document's places and fixed phrases at random positions
    for _ in range(max(1, length // 120)):
        at = rng.randrange(length)
        tokens[at] = rng.choice(places)
    for phrase in ("contrat de ville", "politique de la ville", "renouvellement urbain",
                   "quartiers prioritaires"):
        if rng.random() < 0.25:
            tokens[rng.randrange(length)] = phrase
    sentences, at = [], 0
    while at < length:
        n = rng.randint(8, 24)
        chunk = tokens[at:at + n]
        at += n
        sentence = " ".join(chunk)
        sentences.append(sentence[:1].upper() + sentence[1:] + ".")
    return " ".join(sentences)


def make_document(i: int, seed: int = DEFAULT_SEED) -> Document:
    """Document number i of the corpus `seed`; pure function of (seed, i)."""
    words, cumulative = vocabulary(seed)
    rng = random.Random(seed * 1_000_003 + i)
    source, kind = SOURCES[rng.randrange(len(SOURCES))]
    commune = rng.choice(COMMUNES)
    territories = [commune, "Martinique"]
    if rng.random() < 0.35:
        territories.insert(1, rng.choice(QPV))
    themes = tuple(rng.sample(THEMES, rng.randint(1, 3)))
    length = min(2000, max(100, int(rng.lognormvariate(math.log(400), 0.6))))
    body = _body(rng, words, cumulative, length, [commune, *territories[1:-1], "Martinique"])
    legal = ""
    if kind == "juridique" or rng.random() < 0.15:
        legal = _legal_reference(rng)
        article = "la" if legal.startswith("loi") else "le"
        body = f"Vu {article} {legal}. " + body
    topic = " ".join(rng.choices(_TOPIC_WORDS, k=3))
    title = f"{rng.choice(TITLE_HEADS)} {topic} à {commune}"
    if legal and rng.random() < 0.5:
        title = f"{legal[:1].upper()}{legal[1:]} : {topic}"
    published = START + timedelta(days=rng.randrange(SPAN_DAYS), seconds=rng.randrange(86400))
    first_seen = published + timedelta(days=rng.randint(0, 20))
    summary = body[: rng.randint(150, 300)].rsplit(" ", 1)[0] + " …"
    url = None if kind == "bibliothèque" else f"https://example.org/{source}/{i}"
    path = f"documents/{i:06d}.pdf" if kind == "bibliothèque" else None
    doc_type = rng.choice(DOC_TYPES)
    return Document(
        id=document_id(url or f"library:{source}/{path}"), title=title, source=source, kind=kind,
        first_seen=first_seen, url=url, path=path, summary=summary, content=body,
        published=published, content_hash=hashlib.sha256(body.encode()).hexdigest(),
        doc_type=doc_type, themes=themes, territories=tuple(territories),
        page_count=max(1, length // 350) if kind == "bibliothèque" else None)


_PICKLED = tuple(f.name for f in dataclasses.fields(Document) if f.name != "extra")
assert _PICKLED == tuple(f.name for f in dataclasses.fields(Document))[:len(_PICKLED)]


def generate(n: int, seed: int = DEFAULT_SEED, start: int = 0) -> Iterator[Document]:
    for i in range(start, start + n):
        yield make_document(i, seed)


def _shard_path(cache_dir: Path, seed: int, shard: int, size: int) -> Path:
    return cache_dir / f"corpus-{seed}" / f"{shard * size:07d}+{size}.pickle"


def _write_shard(job: tuple[Path, int, int, int]) -> float:
    """Generate one shard into its file (written aside, then renamed: never half a shard)."""
    cache_dir, seed, shard, size = job
    started = time.process_time()
    # rows of field values: a mappingproxy (Document.extra, left empty here) cannot be pickled
    rows = [tuple(getattr(doc, name) for name in _PICKLED) for doc in generate(size, seed, shard * size)]
    path = _shard_path(cache_dir, seed, shard, size)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    with tmp.open("wb") as f:
        pickle.dump(rows, f, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(path)
    return time.process_time() - started


def ensure_shards(n: int, seed: int = DEFAULT_SEED, cache_dir: Path = CACHE_DIR,
                  procs: int = PROCS, verbose: bool = False, shard_size: int = SHARD) -> None:
    """Generate the shards holding the first n documents that are not cached yet.

    Resumable: a shard is cached whole or not at all, so an interrupted run loses at most
    the shards being written. Generation is CPU-bound: `procs` processes share it."""
    (cache_dir / f"corpus-{seed}").mkdir(parents=True, exist_ok=True)
    missing = [s for s in range(-(-n // shard_size))
               if not _shard_path(cache_dir, seed, s, shard_size).exists()]
    if not missing:
        return
    started = time.perf_counter()
    jobs = [(cache_dir, seed, s, shard_size) for s in missing]
    if procs > 1 and len(jobs) > 1:
        with multiprocessing.get_context("spawn").Pool(procs) as pool:
            for done, _ in enumerate(pool.imap_unordered(_write_shard, jobs), 1):
                if verbose:
                    _progress(done, len(jobs), shard_size, started)
    else:
        for done, job in enumerate(jobs, 1):
            _write_shard(job)
            if verbose:
                _progress(done, len(jobs), shard_size, started)


def _progress(done: int, total: int, size: int, started: float) -> None:
    print(f"corpus: {done}/{total} shards of {size} documents, {time.perf_counter() - started:.0f} s",
          file=sys.stderr)


def documents(n: int, seed: int = DEFAULT_SEED, start: int = 0, cache_dir: Path = CACHE_DIR,
              verbose: bool = False, shard_size: int = SHARD) -> Iterator[Document]:
    """Documents start .. n-1, streamed a cached shard at a time (generated if missing):
    a million documents never sit in memory at once."""
    ensure_shards(n, seed, cache_dir, verbose=verbose, shard_size=shard_size)
    for shard in range(start // shard_size, -(-n // shard_size)):
        with _shard_path(cache_dir, seed, shard, shard_size).open("rb") as f:
            rows = pickle.load(f)
        first = shard * shard_size
        for i in range(max(start, first), min(n, first + shard_size)):
            yield Document(*rows[i - first])


def load(n: int, seed: int = DEFAULT_SEED, cache_dir: Path = CACHE_DIR,
         verbose: bool = False) -> list[Document]:
    """The first n documents as a list (small sizes: a million would not fit comfortably)."""
    return list(documents(n, seed, cache_dir=cache_dir, verbose=verbose))


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Generate (and cache) the benchmark corpus.")
    parser.add_argument("--docs", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    for n in args.docs:
        ensure_shards(n, args.seed, verbose=True)
        words = chars = 0
        for doc in documents(n, args.seed):
            words += len(doc.content.split())
            chars += len(doc.content)
        print(f"{n} documents, {words / n:.0f} words on average, {chars / 1e6:.0f} MB of text")
    return 0


if __name__ == "__main__":
    sys.exit(main())
