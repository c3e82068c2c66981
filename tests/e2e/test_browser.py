"""The web console in a real browser: Debian's chromium headless driven by
chromium-driver and python3-selenium against the real `gatehouse serve`
and a real sshd target. Screenshots of each page at 1280x720 go to
build/screenshots/."""
import os
import re
import shutil

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from cmdfilterenv import REJECTED
from sshenv import UNIX_DEPLOY, running_gatehouse, setup_ghenv, target, wait_for  # noqa: F401
from test_web_api import Web

SHOTS = os.path.join(os.path.dirname(__file__), "..", "..", "build", "screenshots")


def _browser():
    for path in ("/usr/bin/chromium", "/usr/bin/chromedriver"):
        assert shutil.which(path), f"{path} missing: scripts/deps.sh installs chromium and chromium-driver"
    o = webdriver.ChromeOptions()
    o.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,720",
              "--disable-dev-shm-usage", "--ignore-certificate-errors"):
        o.add_argument(a)
    o.set_capability("acceptInsecureCerts", True)  # the console's self-signed certificate
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)


@pytest.fixture
def console(gh_bin, tmp_path, target):
    with running_gatehouse(gh_bin, tmp_path, target) as g:
        setup_ghenv(g, target)
        w = Web(g, str(tmp_path))
        # the admin may open web01 too (connect only: no copy, no paste)
        g.cli("perm", "add", "p-admin-web01", "--user", "admin", "--asset", "web01",
              "--actions", "connect")
        d = _browser()
        d.set_page_load_timeout(30)
        os.makedirs(SHOTS, exist_ok=True)
        w.d = d
        try:
            yield w
        finally:
            d.quit()


def shot(w, name):
    w.d.save_screenshot(os.path.join(SHOTS, f"{name}.png"))


def wait_css(w, css, timeout=20):
    found = []

    def f():
        try:
            els = w.d.find_elements(By.CSS_SELECTOR, css)
            found[:] = [e for e in els if e.is_displayed()]
        except StaleElementReferenceException:  # the page drew again meanwhile
            return False
        return bool(found)
    assert wait_for(f, timeout=timeout), f"{css} not shown; page: {w.d.page_source[-3000:]}"
    return found[0]


def wait_text(w, css, pattern, timeout=20):
    rx = re.compile(pattern)
    got = [""]

    def f():
        try:
            got[0] = " ".join(e.text for e in w.d.find_elements(By.CSS_SELECTOR, css))
        except StaleElementReferenceException:
            return False
        return rx.search(got[0])
    assert wait_for(f, timeout=timeout), \
        f"{pattern!r} not in {css}: {got[0][-2000:]!r}; browser log {[m for m in w.d.get_log('browser') if 'inline style' not in m['message']]}"


def wait_drawn(w, timeout=10):
    """The page's content has stopped changing (its fetches are drawn)."""
    last = [None]

    def settled():
        n = w.d.execute_script("var m = document.querySelector('main');"
                               " return m ? m.innerHTML.length : -1;")
        same, last[0] = n == last[0] and n > 0, n
        return same
    assert wait_for(settled, timeout=timeout), "the page kept changing"


def login(w, user, password):
    w.d.get(w.base + "/")
    wait_css(w, "#login-user").send_keys(user)
    w.d.find_element(By.ID, "login-password").send_keys(password)
    shot(w, "login")
    w.d.find_element(By.ID, "login-submit").click()
    wait_css(w, "#nav-assets")


def open_from_tree(w, asset, account):
    w.d.get(w.base + "/#/assets")
    btn = wait_css(w, f'#asset-tree button.asset[data-asset="{asset}"]')
    btn.click()
    wait_css(w, f'button.open-account[data-account="{account}"]').click()
    wait_text(w, ".pane:not([hidden]) .xterm-rows", r"GHPROMPT\$")


def type_in(w, text):
    ta = w.d.find_elements(By.CSS_SELECTOR, ".pane:not([hidden]) .xterm-helper-textarea")[0]
    ta.send_keys(text)


def web_rows(g):
    return [s for s in g.sessions() if s["protocol"] == "web"]


def test_console_terminal_replay_kill_and_pages(console):
    """Log in, open a web terminal from the asset tree, type a command and
    see its output; the session is listed for the auditor with protocol web
    and its replay shows the command; a kill ends the browser's terminal
    with the reason shown; each page is captured at 1280x720."""
    w, g = console, console.g
    login(w, "admin", w.admin_pw)
    open_from_tree(w, "web01", UNIX_DEPLOY)
    shot(w, "assets")
    type_in(w, "echo br-$((6*7))\n")
    wait_text(w, ".pane:not([hidden]) .xterm-rows", r"br-42")
    shot(w, "terminal")
    assert wait_for(lambda: web_rows(g), timeout=10)
    sid = web_rows(g)[0]["id"]
    w.d.get(w.base + "/#/sessions")
    wait_css(w, f'tr[data-session="{sid}"]')
    wait_text(w, f'tr[data-session="{sid}"]', r"web")
    shot(w, "sessions")
    # live watch: the current screen of the running session shows the command
    w.d.get(w.base + f"/#/replay/{sid}")
    wait_text(w, "#player", r"br-42", timeout=30)
    shot(w, "watch")
    # the first terminal ends with exit; its tab says so
    w.d.get(w.base + "/#/assets")
    w.d.find_elements(By.CSS_SELECTOR, "#tabs button")[0].click()
    type_in(w, "exit\n")
    wait_text(w, ".pane:not([hidden]) .banner", r"Session ended")
    assert wait_for(lambda: next(s for s in g.sessions() if s["id"] == sid)["ended_at"], timeout=20)
    # kill: a second terminal (a new tab) shows the operator's reason
    open_from_tree(w, "web01", UNIX_DEPLOY)

    def live_row():
        rows = [s for s in web_rows(g) if not s["ended_at"]]
        return rows and os.path.exists(os.path.join(g.data, "run", rows[0]["id"] + ".sock"))
    assert wait_for(live_row, timeout=20), g.sessions()
    live = [s for s in web_rows(g) if not s["ended_at"]][0]["id"]
    g.cli("session", "kill", live, "--reason", "browser maintenance", check=0)
    wait_text(w, ".pane:not([hidden]) .banner", r"killed by an operator: browser maintenance")
    shot(w, "killed")
    w.d.get(w.base + f"/#/replay/{sid}")
    wait_text(w, "#commands", r"echo br-\$\(\(6\*7\)\)")
    wait_css(w, "#player .ap-player", timeout=30).click()  # play
    wait_text(w, "#player", r"br-42", timeout=60)
    shot(w, "replay")
    for page in ("audit", "verify", "admin", "mine"):
        w.d.get(w.base + f"/#/{page}")
        wait_css(w, "main h1")
        if page == "verify":
            wait_css(w, "#verify-result")
        wait_drawn(w)  # the page's fetches draw their tables
        shot(w, page)


def test_rejected_command_and_paste_denied(console):
    """A rejected command is refused in the browser's terminal as over SSH;
    paste without the paste action is refused with a message."""
    w, g = console, console.g
    g.cli("cmdgroup", "add", "danger", "rm")
    g.cli("cmdfilter", "add", "no-danger", "--cmdgroup", "danger", "--action", "reject")
    login(w, "admin", w.admin_pw)
    open_from_tree(w, "web01", UNIX_DEPLOY)
    type_in(w, "rm -rf /tmp/gh-browser-nothing\n")
    wait_text(w, ".pane:not([hidden]) .xterm-rows", re.escape(REJECTED))
    shot(w, "rejected")
    type_in(w, Keys.CONTROL + Keys.SHIFT + "v")
    wait_text(w, ".pane:not([hidden]) .banner", r"Paste is not permitted")
    type_in(w, Keys.CONTROL + Keys.SHIFT + "c")
    wait_text(w, ".pane:not([hidden]) .banner", r"Copy is not permitted")
    shot(w, "paste-denied")


def test_admin_creates_asset_account_permission_and_user_opens_it(console, target):  # noqa: F811
    """An admin creates an asset, an account and a permission through the
    pages; the user then opens a terminal on it."""
    w, g = console, console.g
    # the asset tree lists every asset to auditors (users: their own, /api/v1/me/assets)
    g.cli("user", "add", "dave", "--role", "auditor", "--password-stdin", stdin="dave-pw-8Kq2z\n")
    login(w, "admin", w.admin_pw)
    w.d.get(w.base + "/#/admin")
    f = wait_css(w, "#asset-add")
    f.find_element(By.NAME, "name").send_keys("web02")
    f.find_element(By.NAME, "address").send_keys("127.0.0.1")
    f.find_element(By.NAME, "port").send_keys(str(target.port))
    f.find_element(By.NAME, "nodes").send_keys("/prod/web")
    f.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_text(w, "#notice", r"Add asset: done")
    f = wait_css(w, "#account-add")
    f.find_element(By.NAME, "asset").send_keys("web02")
    f.find_element(By.NAME, "username").send_keys(UNIX_DEPLOY)
    f.find_element(By.NAME, "password").send_keys(target.passwords[UNIX_DEPLOY])
    f.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_text(w, "#notice", r"Add account: done")
    f = wait_css(w, "#perm-add")
    for k, v in (("name", "p-dave-web02"), ("users", "dave"), ("assets", "web02")):
        f.find_element(By.NAME, k).send_keys(v)
    f.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_text(w, "#notice", r"Add permission: done")
    shot(w, "admin-created")
    w.d.find_element(By.ID, "logout").click()
    wait_css(w, "#login-user")
    login(w, "dave", "dave-pw-8Kq2z")
    open_from_tree(w, "web02", UNIX_DEPLOY)
    type_in(w, "echo on-web02\n")
    wait_text(w, ".pane:not([hidden]) .xterm-rows", r"on-web02")
