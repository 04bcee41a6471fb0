"""What a page must pass beside working: axe-core's accessibility rules, and fitting its viewport.

axe-core comes from the npm registry (package.json, installed by `scripts/bootstrap.sh --dev`). It
is evaluated through the DevTools protocol: a <script> tag would be refused by the page's CSP, an
evaluation is not, so the page under test runs with its real policy."""

from functools import cache
from pathlib import Path

from tests.required import missing

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# Moderate and minor findings are advice; these two are what stops someone using the page.
BLOCKING = ("serious", "critical")


@cache
def _axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


def require_axe() -> None:
    if not AXE.exists():
        missing(f"{AXE} is missing (scripts/bootstrap.sh --dev installs axe-core with npm)")


def axe_violations(page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now, one readable line each:
    the rule, its impact, the elements (CSS selectors) and what to do."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    violations = page.evaluate(
        """async () => {
          const results = await axe.run(document, {resultTypes: ["violations"]});
          return results.violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help,
            targets: v.nodes.filter((n) => ["serious", "critical"].includes(n.impact))
                            .map((n) => n.target.join(" ")),
          }));
        }"""
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(v['targets'][:8])}"
        + (f" and {len(v['targets']) - 8} more" if len(v["targets"]) > 8 else "")
        for v in violations
        if v["impact"] in BLOCKING and v["targets"]
    ]


def overflow(page) -> list[str]:
    """Nothing when the page is no wider than its viewport; otherwise the widest elements whose right
    edge passes it (tag, id or classes, width), outermost first."""
    return page.evaluate(
        """() => {
          const width = window.innerWidth;
          if (document.documentElement.scrollWidth <= width) return [];
          const culprits = [];
          for (const element of document.body.querySelectorAll("*")) {
            const box = element.getBoundingClientRect();
            if (box.right <= width + 0.5 || box.width === 0) continue;
            // Inside a box that scrolls on its own, an element may be as wide as it likes.
            let scroller = element.parentElement, contained = false;
            while (scroller && scroller !== document.body) {
              const style = getComputedStyle(scroller);
              if (["auto", "scroll", "hidden", "clip"].includes(style.overflowX)
                  && scroller.getBoundingClientRect().right <= width + 0.5) { contained = true; break; }
              scroller = scroller.parentElement;
            }
            if (contained) continue;
            const name = element.tagName.toLowerCase()
              + (element.id ? "#" + element.id : "")
              + [...element.classList].map((c) => "." + c).join("");
            culprits.push(`${name} (right edge ${Math.round(box.right)} px)`);
          }
          return [`page is ${document.documentElement.scrollWidth} px wide in a ${width} px viewport`,
                  ...culprits.slice(0, 8)];
        }"""
    )
