"""Run axe-core (vendored in tests/axe/) in a selenium-driven page; return its violations."""

from __future__ import annotations

from pathlib import Path

AXE = Path(__file__).resolve().parent / "axe" / "axe.min.js"


def axe_violations(driver) -> list[dict]:
    """The WCAG 2.x A/AA and best-practice violations axe finds in the current page, contrast
    included, each reduced to its rule, impact and the elements concerned."""
    driver.set_script_timeout(60)
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    found = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        "  .then(r => done(r.violations)).catch(e => done([{id: 'axe-error', help: String(e), nodes: []}]));")
    return [{"id": v["id"], "impact": v.get("impact"), "help": v.get("help"),
             "nodes": [n.get("target") for n in v.get("nodes", [])][:5]} for v in found]
