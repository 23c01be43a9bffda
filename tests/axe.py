"""axe-core in the browser tests: which serious or critical accessibility problems a page has.

axe-core (tests/vendor/axe.min.js, see the README there) is added to the browser context as an
init script: Playwright hands it to Chromium through the DevTools protocol, so it is in every
page the context opens, before the page's own scripts, and the strict Content-Security-Policy
stays as it is (an added ``<script>`` tag would be refused, and rightly so).

``serious_violations(page)`` runs the WCAG 2.1 A and AA rules plus ``target-size`` (WCAG 2.2
AA: touch targets of at least 24 × 24 px) on the page as it is now, and returns the violations
whose impact is serious or critical; ``describe`` makes them readable in a failing assert.

axe runs without its "preload" of the style sheets: to read a sheet's ``@import`` it would
add the text as a ``<style>`` element, which the policy refuses (and tests/conftest.py would
fail the test for). The one rule that needs it, ``css-orientation-lock``, is then left
undecided; Klimop's style sheets never lock the orientation.
"""

from __future__ import annotations

from pathlib import Path

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
EXTRA_RULES = ["target-size"]
SERIOUS = ("serious", "critical")

RUN = """async ([tags, extra]) => {
    const result = await axe.run(document, {
        runOnly: {type: "tag", values: tags},
        rules: Object.fromEntries(extra.map((id) => [id, {enabled: true}])),
        resultTypes: ["violations"],
        preload: false,
    });
    return result.violations.map((v) => ({
        id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
        nodes: v.nodes.map((n) => ({target: n.target.join(" "), summary: n.failureSummary})),
    }));
}"""


def add_axe(context) -> None:
    """Every page the context opens from now on carries axe-core."""
    context.add_init_script(path=str(AXE))


def serious_violations(page) -> list[dict]:
    """The serious and critical WCAG 2.1 A/AA (and 24 px target size) violations on the page."""
    page.wait_for_load_state("load")
    violations = page.evaluate(RUN, [TAGS, EXTRA_RULES])
    return [v for v in violations if v["impact"] in SERIOUS]


def describe(where: str, violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{where}: {v['id']} ({v['impact']}) {v['help']} — {v['helpUrl']}")
        lines.extend(f"    {node['target']}: {node['summary']}".replace("\n", " ") for node in v["nodes"][:5])
    return "\n".join(lines)
