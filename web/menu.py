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

    def covers(self, endpoint: str | None) -> bool:
        if not endpoint:
            return False
        return endpoint == self.endpoint or any(
            endpoint == name or (name.endswith(".") and endpoint.startswith(name)) for name in self.current)


MENU: tuple[MenuEntry, ...] = (
    MenuEntry("Accueil", "search.home"),
    MenuEntry("Recherche", "search.results"),
    MenuEntry("Bibliothèque", "library.index", ("library.",)),
    MenuEntry("Alertes", "alerts.index", ("alerts.show", "alerts.create", "alerts.edit"), staff=True),
    MenuEntry("Lettres", "alerts.archive", ("alerts.digest",), staff=True),
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
            for entry in MENU if entry.endpoint in known and (staff or not entry.staff)]
