"""Security keys and passkeys (issue 17) in Chromium, with Selenium's virtual authenticator standing in
for the key: the browser runs the real WebAuthn ceremonies against a live `twostep serve`, through the one
static script the pages load.

The server is reached as http://localhost:PORT: browsers refuse an IP address as a WebAuthn RP ID, so
`--rp-id localhost` (the origin then defaults to http://localhost:PORT).

Run: .venv/bin/python -m pytest Tests/Browser/test_security_keys.py  (after `swift build`)
"""

import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.virtual_authenticator import Protocol, Transport, VirtualAuthenticatorOptions
from selenium.webdriver.remote.command import Command
from selenium.webdriver.support.ui import WebDriverWait

from test_two_factor_flow import (  # noqa: F401
    BINARY, PASSWORD, browser, click, confirm_password, fill, free_port, shot, sign_in, sign_up,
)


@pytest.fixture(scope="module")
def server():
    """`twostep serve` on a fresh data directory, reached as localhost."""
    assert BINARY.exists(), f"build first: {BINARY} is missing"
    data = tempfile.mkdtemp(prefix="twostep-keys-")
    port = free_port()
    log = open(Path(data) / "server.log", "w")
    process = subprocess.Popen(
        [str(BINARY), "serve", "--port", str(port), "--data-dir", data, "--rp-id", "localhost"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://localhost:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("the server did not start: " + (Path(data) / "server.log").read_text())
    yield base
    process.terminate()
    process.wait(timeout=10)
    log.close()
    shutil.rmtree(data, ignore_errors=True)


class Authenticators:
    """The virtual authenticators of one test: each is a separate key; all are removed afterwards."""

    def __init__(self, driver):
        self.driver = driver
        self.ids = []

    def add(self, transport=Transport.USB, user_verified=True):
        options = VirtualAuthenticatorOptions(
            protocol=Protocol.CTAP2, transport=transport, has_resident_key=True, has_user_verification=True,
            is_user_verified=user_verified,
        )
        self.driver.add_virtual_authenticator(options)
        self.ids.append(self.driver.virtual_authenticator_id)
        return self.driver.virtual_authenticator_id

    def remove(self, authenticator_id):
        self.driver.execute(Command.REMOVE_VIRTUAL_AUTHENTICATOR, {"authenticatorId": authenticator_id})
        self.ids.remove(authenticator_id)

    def remove_all(self):
        for authenticator_id in list(self.ids):
            self.remove(authenticator_id)


@pytest.fixture
def keys(browser):
    authenticators = Authenticators(browser)
    yield authenticators
    authenticators.remove_all()


def ceremony_error(driver, text):
    """Clicks a key button whose ceremony fails: the page stays, and says what went wrong."""
    page = driver.find_element(By.TAG_NAME, "html")
    button = driver.find_element(By.XPATH, f"//button[normalize-space()='{text}']")
    form = button.find_element(By.XPATH, "./ancestor::form")
    button.click()
    message = form.find_element(By.CSS_SELECTOR, "[data-webauthn-error]")
    WebDriverWait(driver, 10).until(lambda _: message.is_displayed() and message.text)
    assert page.is_enabled(), "the page was not replaced"
    assert button.is_enabled(), "the button works again, for a retry"
    return message.text


def signed_in_as(driver):
    names = driver.find_elements(By.CSS_SELECTOR, ".who")
    return names[0].text if names else None


def key_rows(driver):
    return [row.find_element(By.CSS_SELECTOR, ".key-name").text for row in driver.find_elements(By.CSS_SELECTOR, "#security-keys tbody tr")]


def add_key(driver, name, button="Add security key"):
    fill(driver, name=name)
    click(driver, button)


def test_security_key_alone_turns_two_factor_on_and_signs_in(server, browser, keys):
    """Enable → Security key: a key is the only method; sign out, password + key; trust this device."""
    base, d = server, browser
    keys.add()
    sign_up(d, base, "kim@example.com")
    d.get(base + "/profile/two-factor")
    click(d, "Enable")
    confirm_password(d)
    assert d.current_url == base + "/profile/two-factor/enable"
    shot(d, "50-choose-method-with-key")
    d.find_element(By.XPATH, "//a[.//span[normalize-space()='Security key']]").click()
    WebDriverWait(d, 10).until(lambda _: "/security-keys/new" in d.current_url)
    shot(d, "51-add-security-key")
    add_key(d, "YubiKey 5")
    assert "Enabled" in d.find_element(By.ID, "status").text
    assert "Security key" in d.find_element(By.ID, "method").text
    # Recovery codes are offered next, as after the app or SMS.
    assert "Now generate recovery codes" in d.find_element(By.CSS_SELECTOR, ".notice").text
    assert key_rows(d) == ["YubiKey 5"]
    assert d.find_element(By.CSS_SELECTOR, "#security-keys tbody tr td:nth-child(3)").text == "Never"
    shot(d, "52-key-listed")

    click(d, "Sign out")
    sign_in(d, base, email="kim@example.com")
    assert d.current_url == base + "/signin/code"
    # A key is the account's only method: no code field to type into, the key and a recovery code.
    assert d.find_element(By.TAG_NAME, "h1").text == "Security key"
    assert not d.find_elements(By.ID, "code")
    shot(d, "53-use-your-security-key")
    d.find_element(By.CSS_SELECTOR, "#security-key input[name=trust]").click()
    click(d, "Use your security key")
    assert d.current_url == base + "/profile", d.find_element(By.TAG_NAME, "main").text
    d.get(base + "/profile/two-factor")
    assert d.find_element(By.CSS_SELECTOR, "#security-keys tbody tr td:nth-child(3)").text.endswith("UTC"), "last used is shown"

    # Trusted: the next sign-in needs no key.
    click(d, "Sign out")
    sign_in(d, base, email="kim@example.com")
    assert d.current_url == base + "/profile", "a trusted device skips the second step"


def test_passkey_signs_in_without_a_password(server, browser, keys):
    """Add a passkey; sign in with it alone; a passkey whose user is not verified is refused."""
    base, d = server, browser
    keys.add(transport=Transport.INTERNAL)
    sign_up(d, base, "lee@example.com")
    d.get(base + "/profile/two-factor")
    click(d, "Add a passkey")
    confirm_password(d)
    assert d.current_url == base + "/profile/two-factor/security-keys/new?passkey=on"
    shot(d, "54-add-passkey")
    add_key(d, "This laptop", button="Add passkey")
    assert key_rows(d) == ["This laptop passkey"]
    assert "Enabled" in d.find_element(By.ID, "status").text
    shot(d, "55-passkey-listed")

    click(d, "Sign out")
    assert d.current_url.startswith(base + "/signin")
    shot(d, "56-sign-in-with-passkey")
    click(d, "Sign in with a passkey")
    assert d.current_url == base + "/profile"
    assert signed_in_as(d) == "lee@example.com"

    # The authenticator no longer verifies its user (no PIN, no fingerprint): refused in the browser,
    # the page says so and nobody is signed in; with verification back, the retry works.
    click(d, "Sign out")
    d.set_user_verified(False)
    message = ceremony_error(d, "Sign in with a passkey")
    assert "did not answer, or the request was cancelled" in message
    shot(d, "57-passkey-refused")
    assert signed_in_as(d) is None and d.current_url.startswith(base + "/signin")
    d.set_user_verified(True)
    click(d, "Sign in with a passkey")
    assert signed_in_as(d) == "lee@example.com"


def test_rename_and_remove_with_reauthentication(server, browser, keys):
    """Two keys; rename one; remove it after "Confirm it's you"; the last key cannot be removed alone."""
    base, d = server, browser
    first = keys.add()
    sign_up(d, base, "max@example.com")
    d.get(base + "/profile/two-factor")
    click(d, "Add security key")
    confirm_password(d)
    add_key(d, "YubiKey 5")

    # The same key again: the browser refuses (it is in excludeCredentials) and the page says so.
    click(d, "Add security key")
    fill(d, name="Again")
    assert "already added" in ceremony_error(d, "Add security key")
    shot(d, "58-key-already-added")

    # A second key (another authenticator).
    keys.remove(first)
    keys.add()
    add_key(d, "Blue key")
    assert key_rows(d) == ["YubiKey 5", "Blue key"]

    # Rename; a hostile name (too long, sent around the browser's maxlength) is a form error.
    rows = d.find_elements(By.CSS_SELECTOR, "#security-keys tbody tr")
    old_id = rows[0].get_attribute("id").removeprefix("key-")
    box = d.find_element(By.ID, f"rename-{old_id}")
    box.clear()
    box.send_keys("Old key")
    page = d.find_element(By.TAG_NAME, "html")
    rows[0].find_element(By.XPATH, ".//button[normalize-space()='Rename']").click()
    WebDriverWait(d, 10).until(lambda _: not _alive(page))
    assert "renamed" in d.find_element(By.CSS_SELECTOR, ".notice").text
    assert key_rows(d) == ["Old key", "Blue key"]
    page = d.find_element(By.TAG_NAME, "html")
    d.execute_script(
        "const box = document.getElementById(arguments[0]); box.removeAttribute('maxlength'); box.value = 'x'.repeat(200); box.form.submit();",
        f"rename-{old_id}",
    )
    WebDriverWait(d, 10).until(lambda _: not _alive(page))
    assert "1 to 64 characters" in d.find_element(By.CSS_SELECTOR, ".error").text
    assert key_rows(d) == ["Old key", "Blue key"]

    # Remove, in a new session: "Confirm it's you" first, then the removal page names the key.
    click(d, "Sign out")
    sign_in(d, base, email="max@example.com")
    click(d, "Use your security key")
    d.get(base + "/profile/two-factor")
    d.find_element(By.CSS_SELECTOR, f"#key-{old_id} a").click()
    WebDriverWait(d, 10).until(lambda _: "/profile/confirm" in d.current_url)
    confirm_password(d, "59-confirm-remove")
    assert d.find_element(By.ID, "key-name").text == "Old key"
    shot(d, "60-remove-key")
    click(d, "Remove security key")
    assert "removed" in d.find_element(By.CSS_SELECTOR, ".notice").text
    assert key_rows(d) == ["Blue key"]
    events = d.find_element(By.CSS_SELECTOR, ".events").text
    assert "Security key removed" in events and "Security key renamed" in events

    # The last key is the account's only method: Disable is the way to turn it off.
    blue = d.find_element(By.CSS_SELECTOR, "#security-keys tbody tr").get_attribute("id")
    d.find_element(By.CSS_SELECTOR, f"#{blue} a").click()
    WebDriverWait(d, 10).until(lambda _: "/remove" in d.current_url)
    click(d, "Remove security key")
    assert "only way left" in d.find_element(By.CSS_SELECTOR, ".error").text
    d.get(base + "/profile/two-factor")
    assert key_rows(d) == ["Blue key"]


def _alive(element):
    try:
        element.is_enabled()
        return True
    except Exception:
        return False


def test_refused_and_replayed_answers_do_not_sign_in(server, browser, keys):
    """A key the account does not know, a garbled answer and a replayed one: each a form error on the
    same page, never a 5xx, and the second step is still owed."""
    base, d = server, browser
    own = keys.add()
    sign_up(d, base, "ned@example.com")
    d.get(base + "/profile/two-factor/security-keys/new")
    confirm_password(d)
    add_key(d, "YubiKey 5")
    click(d, "Sign out")

    # Capture one real answer on its way out (the form's submit is held back in this page only), then
    # send it: it signs in once.
    sign_in(d, base, email="ned@example.com")
    d.execute_script(
        "const form = document.querySelector('#security-key form');"
        "form.submit = function () { window.captured = form.credential.value; };"
    )
    d.find_element(By.XPATH, "//button[normalize-space()='Use your security key']").click()
    captured = WebDriverWait(d, 10).until(lambda _: _captured(d))
    d.execute_script("HTMLFormElement.prototype.submit.call(document.querySelector('#security-key form'));")
    WebDriverWait(d, 10).until(lambda _: d.current_url == base + "/profile")
    click(d, "Sign out")

    # Another key (not registered to this account): the browser finds no credential and says so.
    sign_in(d, base, email="ned@example.com")
    keys.remove(own)
    keys.add()
    assert "did not answer, or the request was cancelled" in ceremony_error(d, "Use your security key")
    assert d.current_url == base + "/signin/code"

    # The captured answer again, in a new sign-in: its challenge was used, so it is refused.
    for value, expected in [(captured, "was not accepted"), ('{"id": "x", "response": [', "could not be read")]:
        page = d.find_element(By.TAG_NAME, "html")
        d.execute_script("const form = document.querySelector('#security-key form'); form.credential.value = arguments[0]; form.submit();", value)
        WebDriverWait(d, 10).until(lambda _: not _alive(page))
        assert expected in d.find_element(By.CSS_SELECTOR, ".error").text
        assert d.current_url == base + "/signin/security-key"
        assert signed_in_as(d) is None
    shot(d, "61-replayed-answer-refused")
    d.get(base + "/profile")
    assert d.current_url == base + "/signin", "still not signed in"


def _captured(driver):
    return driver.execute_script("return window.captured || null;")


def test_an_ip_address_is_told_where_keys_work(server, browser, keys):
    """Browsers refuse WebAuthn at an IP address: the page says so and names the address that works."""
    ip = server.replace("localhost", "127.0.0.1")
    keys.add()
    sign_up(browser, ip, "pia@example.com")
    browser.get(ip + "/profile/two-factor/security-keys/new")
    confirm_password(browser)
    fill(browser, name="YubiKey 5")
    message = ceremony_error(browser, "Add security key")
    assert "do not work at an IP address" in message and "http://localhost:" + ip.rsplit(":", 1)[1] in message
    shot(browser, "63-key-at-an-ip-address")


def test_no_inline_script_and_pages_work_without_javascript(server, browser):
    """The key pages load only the static script under the CSP; with JavaScript off, the password
    sign-in still works and the key pages say they need JavaScript."""
    base = server
    with urllib.request.urlopen(base.replace("localhost", "127.0.0.1") + "/signin") as answer:
        policy = answer.headers["Content-Security-Policy"]
        html = answer.read().decode()
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    tags = re.findall(r"<script[^>]*>.*?</script>", html, re.S)
    assert len(tags) == 1 and re.fullmatch(r'<script src="/static/webauthn-[0-9a-f]{16}\.js" integrity="[^"]+" defer></script>', tags[0])
    assert html.count("<script") == 1
    # In the browser the script ran under that policy without a single violation.
    browser.get_log("browser")
    browser.get(base + "/signin")
    assert browser.find_element(By.ID, "passkey").is_displayed()
    assert not [entry for entry in browser.get_log("browser") if "Content Security Policy" in entry["message"]]

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000"]:
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    d = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    d.implicitly_wait(2)
    try:
        sign_up(d, base, "ola@example.com")
        d.get(base + "/profile/two-factor/security-keys/new")
        confirm_password(d)
        assert "needs a browser with JavaScript" in d.find_element(By.TAG_NAME, "main").text
        assert not d.find_element(By.CSS_SELECTOR, "form[data-webauthn]").is_displayed()
        shot(d, "62-key-page-without-javascript")
        click(d, "Sign out")
        assert not d.find_element(By.ID, "passkey").is_displayed(), "no passkey button that cannot work"
        sign_in(d, base, email="ola@example.com")
        assert d.current_url == base + "/profile"
    finally:
        d.quit()
