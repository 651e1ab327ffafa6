"""Fit and finish in the browser (issue 13 §6), for every role at 1280, 1440 and 390 px: its home, the
hazard list, the 企业名录 and the 待办. On each page: no menu item wraps (each nav entry is one line high
and, on a desktop, the whole menu is one row), no two visible controls of a filter bar overlap, and no
English text node shows outside an allow-list (brand names, units, codes). Screenshots go to
var/screenshots/layout-*.png. One test per width; each role logs in once and opens its pages."""

from __future__ import annotations

import re
from typing import Any

import pytest

from hazards.choices import HazardLevel, HazardStatus
from tests.browser_fixtures import screenshot, watch_page
from tests.conftest import Cast, World
from tests.factories import TEST_PASSWORD
from tests.hazards.conftest import catalogue, make_hazard  # noqa: F401 - the catalogue fixture

ROLES = ["clerk", "principal", "town_a", "county", "leader", "admin", "city"]
PAGES = [("home", "/"), ("hazards", "/hazards/"), ("enterprises", "/enterprises/"), ("queue", "/hazards/queue/")]
QUEUE_ROLES = {"clerk", "principal", "town_a", "county"}  # the roles with a 待办 (and its bulk form)

# Latin words a Chinese user is expected to read: file formats, brand names, units.
ALLOWED_WORDS = {"excel", "xlsx", "pdf", "api", "word", "csv", "zip", "png", "jpg", "jpeg", "mb", "kb"}

# One JavaScript pass over the page: the three measurements (see the module docstring).
MEASURE = r"""
() => {
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    const cs = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && cs.visibility !== "hidden" && cs.display !== "none";
  };
  const wrapped = [];
  const navEntries = document.querySelectorAll(
    ".navbar-brand, #mainnav > .navbar-nav > .nav-item > .nav-link, #mainnav > form .btn"
  );
  const rows = new Set();
  navEntries.forEach((el) => {
    if (!visible(el)) return;
    const cs = getComputedStyle(el);
    const line = parseFloat(cs.lineHeight) || parseFloat(cs.fontSize) * 1.5;
    const r = el.getBoundingClientRect();
    const inner = r.height - parseFloat(cs.paddingTop) - parseFloat(cs.paddingBottom)
      - parseFloat(cs.borderTopWidth) - parseFloat(cs.borderBottomWidth);
    if (inner > line * 1.5) wrapped.push(`${el.textContent.trim()} (${Math.round(inner)}px, a line is ${line}px)`);
    if (!el.classList.contains("navbar-brand")) rows.add(Math.round(r.top + r.height / 2));
  });
  const overlaps = [];
  document.querySelectorAll("main form").forEach((form) => {
    const controls = Array.from(form.querySelectorAll("input:not([type=hidden]), select, textarea, button, a.btn"))
      .filter(visible);
    for (let i = 0; i < controls.length; i++) {
      for (let j = i + 1; j < controls.length; j++) {
        const a = controls[i].getBoundingClientRect();
        const b = controls[j].getBoundingClientRect();
        const x = Math.min(a.right, b.right) - Math.max(a.left, b.left);
        const y = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        if (x > 1 && y > 1) {
          const name = (el) => el.name || el.id || el.textContent.trim();
          overlaps.push(`${name(controls[i])} × ${name(controls[j])}`);
        }
      }
    }
  });
  const english = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const parent = node.parentElement;
    if (!parent || ["SCRIPT", "STYLE", "NOSCRIPT"].includes(parent.tagName)) continue;
    if (!visible(parent)) continue;
    const text = node.textContent.trim();
    if (/[A-Za-z]{2,}/.test(text)) english.push(text.slice(0, 80));
  }
  const overflow = document.documentElement.scrollWidth - window.innerWidth;
  return { wrapped, rows: rows.size, overlaps, english, overflow };
}
"""


def _english(texts: list[str]) -> list[str]:
    """The texts with a Latin word that is not on the allow-list (codes such as a credit code are not words)."""
    found = []
    for text in texts:
        words = re.findall(r"[A-Za-z]+", re.sub(r"\b[0-9A-Z]*[0-9][0-9A-Z]*\b", " ", text))
        if any(len(w) > 1 and w.lower() not in ALLOWED_WORDS for w in words):
            found.append(text)
    return found


@pytest.mark.parametrize("width", [1280, 1440, 390])
def test_every_role_fits_at(
    width: int,
    live_server: Any,
    page_factory: Any,
    cast: Cast,
    world: World,
    catalogue: None,  # noqa: F811
) -> None:
    make_hazard(world.enterprise_a, status=HazardStatus.PENDING_TOWN)
    make_hazard(world.enterprise_a, level=HazardLevel.GENERAL, status=HazardStatus.RECTIFIED)
    make_hazard(world.enterprise_b, level=HazardLevel.GENERAL, status=HazardStatus.RECTIFYING)
    problems: list[str] = []
    for role in ROLES:
        page = page_factory(mobile=width < 576)
        page.set_viewport_size({"width": width, "height": 900})
        failed, errors = watch_page(page)
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("用户名").fill(role)
        page.get_by_label("密码").fill(TEST_PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(f"{live_server.url}/")
        for name, path in PAGES:
            if name == "queue" and role not in QUEUE_ROLES:
                continue
            if path != "/":
                page.goto(f"{live_server.url}{path}")
            page.wait_for_load_state("networkidle")
            if width < 992 and path == "/":
                # on a phone the menu is behind the toggler: open it, so that its entries are measured too
                page.locator(".navbar-toggler").click()
                page.locator("#mainnav.show").wait_for()
                page.wait_for_timeout(400)  # the collapse animation
            found = page.evaluate(MEASURE)
            where = f"{role} {name} {width}px"
            problems += [f"{where}: menu item wraps: {w}" for w in found["wrapped"]]
            if width >= 992 and found["rows"] > 1:
                problems.append(f"{where}: the menu takes {found['rows']} rows")
            problems += [f"{where}: controls overlap: {o}" for o in found["overlaps"]]
            problems += [f"{where}: English: {t!r}" for t in _english(found["english"])]
            if found["overflow"] > 0:
                problems.append(f"{where}: the page is {found['overflow']}px wider than the window")
            if (width in (1280, 390) and name != "enterprises") or role == "admin":
                screenshot(page, f"layout-{role}-{name}-{width}")
        problems += [f"{role} {width}px: {x}" for x in failed + errors]
        page.context.close()
    assert not problems, "\n".join(problems)
