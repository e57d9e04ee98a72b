"""The site's main menu, declared once: every public page, then the team's pages.

An entry names the endpoint it opens and the endpoints under it (by name, or a blueprint's
prefix such as "library."), which mark it as the current page. An entry whose endpoint is
not registered in the app is left out, so a page group adds its entry here and it shows up
once its blueprint is registered.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request, url_for

from web.auth import current_staff


@dataclass(frozen=True)
class MenuEntry:
    label: str
    endpoint: str
    current: tuple[str, ...] = ()      # endpoints (or "blueprint." prefixes) it covers
    staff: bool = False                # for the centre's team only
    public: bool = False               # for visitors only (the team has its own page for it)

    def covers(self, endpoint: str | None) -> bool:
        if not endpoint:
            return False
        return endpoint == self.endpoint or any(
            endpoint == name or (name.endswith(".") and endpoint.startswith(name)) for name in self.current)


MENU: tuple[MenuEntry, ...] = (
    MenuEntry("Accueil", "search.home"),
    MenuEntry("Recherche", "search.results"),
    MenuEntry("Bibliothèque", "library.index", ("library.",)),
    MenuEntry("Lettres de veille", "lettres.index", ("lettres.",)),
    MenuEntry("S'abonner", "subscriptions.form", ("subscriptions.subscribe", "subscriptions.search_form",
                                                   "subscriptions.subscribe_search"), public=True),
    MenuEntry("À trier", "lettre.triage", ("lettre.triage_save", "lettre.triage_field"), staff=True),
    MenuEntry("Lettre", "lettre.compose", ("lettre.compose_save", "lettre.preview", "lettre.preview_html",
                                           "lettre.preview_text", "lettre.test_send", "lettre.schedule",
                                           "lettre.send", "lettre.deliveries"), staff=True),
    MenuEntry("Abonnés", "subscriptions.staff_index", ("subscriptions.staff_add", "subscriptions.staff_remove"),
              staff=True),
    MenuEntry("Alertes", "alerts.index", ("alerts.show", "alerts.create", "alerts.edit", "alerts.delete"),
              staff=True),
    MenuEntry("Envois des alertes", "alerts.archive", ("alerts.digest",), staff=True),
    MenuEntry("Sources", "sources.index", ("sources.",), staff=True),
)


@dataclass(frozen=True)
class MenuLink:
    label: str
    url: str
    current: bool


def menu_links() -> list[MenuLink]:
    """The menu as this reader sees it, the current page marked."""
    staff = current_staff() is not None
    known = current_app.view_functions
    return [MenuLink(entry.label, url_for(entry.endpoint), entry.covers(request.endpoint))
            for entry in MENU if entry.endpoint in known and (staff or not entry.staff)
            and not (staff and entry.public)]
