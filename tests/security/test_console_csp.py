"""The console under its Content Security Policy, in a real Chromium.

The policy forbids inline scripts and eval; the console must work without
them, and the browser must report no violation while it is used.
"""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from tests.console.conftest import PASSWORD, USERNAME, Console

TIMEOUT_MS = 60_000
# Playwright's init scripts run before the page's own and are not subject to its CSP.
WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}`);
});
"""


def test_console_runs_under_csp_without_violations(console: Console, browser: Browser) -> None:
    page = browser.new_page(viewport={"width": 1366, "height": 860}, locale="zh-CN")
    page.set_default_timeout(TIMEOUT_MS)
    page.add_init_script(WATCH_VIOLATIONS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None,
    )
    first = page.goto(console.url + "/console/")
    assert first is not None
    csp = first.header_value("content-security-policy") or ""
    assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp

    page.get_by_label("用户名").fill(USERNAME)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#map canvas.maplibregl-canvas")).to_be_visible()
    page.wait_for_selector('#map[data-loaded~="org-district"]', timeout=TIMEOUT_MS)
    page.wait_for_selector('#map[data-loaded~="roads"]', timeout=TIMEOUT_MS)
    # The heat layer exercises image tiles, and its legend an inline colour ramp.
    page.get_by_label("热力图").check()
    page.wait_for_selector('#map[data-loaded~="heat"]', timeout=TIMEOUT_MS)
    expect(page.locator("#legend-heat .ramp")).to_be_visible()
    page.get_by_label("热点（Gi*）").check()
    page.wait_for_selector('#map[data-loaded~="hotspots"]', timeout=TIMEOUT_MS)
    console.shoot(page, "csp-console")

    # The policy is enforced, not just sent: an injected inline script does not run.
    ran = page.evaluate(
        """() => {
          const s = document.createElement('script');
          s.textContent = 'window.__inlineRan = true';
          document.body.appendChild(s);
          return window.__inlineRan === true;
        }"""
    )
    assert ran is False
    violations = page.evaluate("() => window.__cspViolations")
    blocked_probe = [v for v in violations if v.startswith("script-src")]
    assert blocked_probe, "the injected inline script was not reported as blocked"
    others = [v for v in violations if not v.startswith("script-src")] + [
        e for e in errors if "inline script" not in e.lower()
    ]
    page_scripts = [v for v in blocked_probe if "/assets/" in v]
    assert not others and not page_scripts, others + page_scripts

    # The API docs (Swagger UI) start under their own, hash-based policy.
    docs = browser.new_page()
    docs.set_default_timeout(TIMEOUT_MS)
    docs.add_init_script(WATCH_VIOLATIONS)
    docs.goto(console.url + "/docs")
    expect(docs.locator(".swagger-ui .info .title")).to_contain_text(
        "Pingan API", timeout=TIMEOUT_MS
    )
    assert docs.evaluate("() => window.__cspViolations") == []
    docs.close()
    page.close()  # before the server stops: no request left in flight
