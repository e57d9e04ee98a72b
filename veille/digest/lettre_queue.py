"""The triage queue « À trier »: what entered since the last lettre and fits the watch profile.

The profile (`lettre.profile`) takes a new document when one of the alerts finds it, when it
has one of the profile's themes or comes from one of its sources; with no criterion at all,
every new document is in the queue. The queue is narrowed with the facets of the search page
(the same names, `veille.core.facets`), counted here over the queue itself, and by triage
state. Newest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable, Mapping, Sequence

from veille.core.config import LettreProfile
from veille.core.facets import FACET_NAMES
from veille.core.records import Document
from veille.digest.alerts import AlertRecord
from veille.digest.compose import Match
from veille.digest.lettre import default_rubrique
from veille.storage.triage import ASIDE, KEEP, UNSORTED, TriageState

MAX_QUEUE = 2000          # documents read for one queue: a fortnight of a busy watch
STATE_PARAM = "etat"      # the triage-state filter, beside the search page's facets
STATE_LABELS = {UNSORTED: "À trier", KEEP: "Gardé", ASIDE: "Écarté"}
STATE_VALUES = {"a-trier": UNSORTED, "garde": KEEP, "ecarte": ASIDE}

# (alert, since, until) -> its matches first seen in (since, until], as veille.digest.run.Matcher
Matcher = Callable[[AlertRecord, datetime, datetime], Sequence[Match]]


@dataclass(frozen=True)
class QueueEntry:
    doc: Document
    state: TriageState
    rubrique: str                   # the chosen one, else the document's default
    alerts: tuple[str, ...] = ()    # names of the alerts that found it


@dataclass(frozen=True)
class Queue:
    entries: tuple[QueueEntry, ...]                      # after the filters
    facets: Mapping[str, tuple[tuple[str, int], ...]]    # over the whole queue, most frequent first
    total: int                                           # the whole queue
    counts: Mapping[str, int]                            # per triage state, whole queue
    problems: tuple[str, ...] = ()                       # alerts whose search failed (French)


def facet_values(doc: Document, name: str) -> tuple[str, ...]:
    """A document's values for facet `name`, as the search engines index them."""
    if name == "kind":
        return (doc.kind,)
    if name == "source":
        return (doc.source,)
    if name == "theme":
        return doc.themes
    if name == "territory":
        return doc.territories
    if name == "doc_type":
        return (doc.doc_type,) if doc.doc_type else ()
    if name == "year":
        return (str(doc.date.year),)
    if name == "visibility":
        return (doc.visibility,)
    raise KeyError(name)


def profile_matches(alerts: Sequence[AlertRecord], matcher: Matcher | None, since: datetime,
                    until: datetime) -> tuple[dict[str, list[str]], list[str]]:
    """doc id -> names of the alerts finding it; and the French problems of failed searches."""
    found: dict[str, list[str]] = {}
    problems = []
    if matcher is None:
        return found, problems
    for alert in alerts:
        try:
            matches = matcher(alert, since, until)
        except Exception as exc:  # one broken alert must not empty the queue
            problems.append(f"La recherche de l'alerte « {alert.name} » a échoué : {exc}")
            continue
        for match in matches:
            found.setdefault(match.document.id, []).append(alert.name)
    return found, problems


def in_profile(doc: Document, profile: LettreProfile, alert_hits: Mapping[str, Sequence[str]],
               use_alerts: bool) -> bool:
    if not (use_alerts or profile.themes or profile.sources):
        return True
    return ((use_alerts and doc.id in alert_hits) or doc.source in profile.sources
            or any(theme in profile.themes for theme in doc.themes))


def build_queue(docs: Iterable[Document], triage: Mapping[str, TriageState], *, profile: LettreProfile,
                alerts: Sequence[AlertRecord], alert_hits: Mapping[str, Sequence[str]],
                filters: Mapping[str, Sequence[str]], problems: Sequence[str] = ()) -> Queue:
    """The queue of `docs` (newest first) narrowed by `filters` (facet name or STATE_PARAM ->
    values; OR within one, AND across them)."""
    use_alerts = profile.alerts and bool(alerts)
    entries = []
    for doc in sorted(docs, key=lambda d: (d.first_seen, d.id), reverse=True):
        if not in_profile(doc, profile, alert_hits, use_alerts):
            continue
        state = triage.get(doc.id) or TriageState(doc_id=doc.id)
        entries.append(QueueEntry(doc=doc, state=state, rubrique=state.rubrique or default_rubrique(doc),
                                  alerts=tuple(alert_hits.get(doc.id, ()))))
    counts: dict[str, dict[str, int]] = {name: {} for name in FACET_NAMES}
    states = {value: 0 for value in STATE_LABELS}
    for entry in entries:
        states[entry.state.decision] = states.get(entry.state.decision, 0) + 1
        for name in FACET_NAMES:
            for value in facet_values(entry.doc, name):
                counts[name][value] = counts[name].get(value, 0) + 1

    def selected(entry: QueueEntry) -> bool:
        for name, values in filters.items():
            if not values:
                continue
            if name == STATE_PARAM:
                if entry.state.decision not in {STATE_VALUES.get(v, v) for v in values}:
                    return False
            elif not set(facet_values(entry.doc, name)) & set(values):
                return False
        return True

    facets = {name: tuple(sorted(values.items(), key=lambda kv: (-kv[1], kv[0])))
              for name, values in counts.items() if values}
    return Queue(entries=tuple(e for e in entries if selected(e)), facets=facets, total=len(entries),
                 counts=states, problems=tuple(problems))
