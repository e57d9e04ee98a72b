"""Accessibility checks in the browser with axe-core (tests/axe/axe.min.js, vendored).

    from tests.axe_check import axe_violations, describe
    assert axe_violations(driver) == [], describe(driver.current_url, axe_violations(driver))

WebDriver runs the script outside the page's Content-Security-Policy, so pages keep theirs.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

AXE_JS = Path(__file__).resolve().parent / "axe" / "axe.min.js"

RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ["violations"]})
   .then(results => done(results.violations.map(v => ({
       id: v.id, impact: v.impact, help: v.help,
       nodes: v.nodes.map(n => ({target: n.target.join(" "), html: n.html, summary: n.failureSummary}))}))))
   .catch(error => done([{id: "axe-error", impact: "critical", help: String(error), nodes: []}]));
"""


@lru_cache(maxsize=1)
def axe_source() -> str:
    return AXE_JS.read_text(encoding="utf-8")


def axe_violations(driver) -> list:
    """axe-core's violations on the page the driver shows: [{id, impact, help, nodes}]."""
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(axe_source())
    driver.set_script_timeout(60)
    return driver.execute_async_script(RUN_AXE)


def describe(url: str, violations: list) -> str:
    """The violations as lines a person can act on."""
    lines = [url]
    for violation in violations:
        lines.append(f"  {violation['id']} ({violation['impact']}): {violation['help']}")
        lines += [f"    {node['target']}: {node['html'][:160]}" for node in violation["nodes"][:5]]
    return "\n".join(lines)
