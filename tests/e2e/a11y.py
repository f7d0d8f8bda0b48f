"""axe-core (its npm package, pinned in package.json, installed by `make test` into
node_modules/) run inside the page by the browser tests.

The script is evaluated through the DevTools protocol (Playwright's `evaluate`), which the
page's Content-Security-Policy does not apply to: the portal's CSP stays strict (no inline
script) and nothing of axe is ever served by the portal."""

from __future__ import annotations

import functools
from pathlib import Path

from tests.conftest import service_missing

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")


@functools.cache
def axe_source() -> str:
    if not AXE.exists():
        service_missing(f"axe-core at {AXE} (npm ci, which `make test` runs)")
    return AXE.read_text()


def serious_violations(page) -> list[str]:
    """axe's serious and critical violations on the page as it is now, one line each (rule,
    impact, the first offending elements)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ["violations"]});
            return r.violations.map(v => ({id: v.id, impact: v.impact,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
        }"""
    )
    return [
        f"{v['id']} ({v['impact']}): {', '.join(v['nodes'])}"
        for v in result
        if v["impact"] in SERIOUS
    ]
