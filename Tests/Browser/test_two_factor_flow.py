"""The article's whole flow in a real browser (Chromium through Selenium) against a live `twostep serve`.

Codes come from what a user's phone would do: the QR code is photographed (an element screenshot),
decoded by zbarimg, and oathtool computes the code from the key it holds. Screenshots of every page
land in $TWOSTEP_ARTIFACTS (default ci-artifacts/browser).

Run: .venv/bin/python -m pytest Tests/Browser  (after `swift build`; .ci/run does both)
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("TWOSTEP_BIN", ROOT / ".build" / "debug" / "twostep"))
ARTIFACTS = Path(os.environ.get("TWOSTEP_ARTIFACTS", ROOT / "ci-artifacts" / "browser"))
EMAIL = "alice@example.com"
PASSWORD = "correct horse battery staple"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    """`twostep serve` on a fresh data directory, as a new user would start it."""
    assert BINARY.exists(), f"build first: {BINARY} is missing"
    data = tempfile.mkdtemp(prefix="twostep-browser-")
    port = free_port()
    log = open(Path(data) / "server.log", "w")
    process = subprocess.Popen(
        [str(BINARY), "serve", "--port", str(port), "--data-dir", data], stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/health", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("the server did not start: " + (Path(data) / "server.log").read_text())
    yield base, Path(data)
    process.terminate()
    process.wait(timeout=10)
    log.close()
    key = Path(data) / "master.key"
    assert oct(key.stat().st_mode & 0o777) == "0o600", "master key readable by others"
    shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000"]:
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    driver.implicitly_wait(2)
    yield driver
    driver.quit()


class Phone:
    """The authenticator app: holds the key from the QR code, gives each code once, like a person would."""

    def __init__(self, uri):
        query = urllib.parse.parse_qs(urllib.parse.urlparse(uri).query)
        self.secret = query["secret"][0]
        self.last_step = None

    def code(self, step):
        result = subprocess.run(
            ["oathtool", "--totp", "-b", "-d", "6", "-N", f"@{step * 30}", self.secret],
            check=True, capture_output=True, text=True,
        )
        return result.stdout.strip()

    def fresh_code(self):
        """A code for a step after the last one used: the next step if the window allows, else wait."""
        now = int(time.time()) // 30
        step = now if self.last_step is None or self.last_step < now else self.last_step + 1
        while step > int(time.time()) // 30 + 1:  # the server accepts one step ahead at most
            time.sleep(0.5)
        self.last_step = step
        return self.code(step)


def shot(driver, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def decode_qr(driver, element, name):
    """Photographs the QR element (then, failing that, the whole page) and decodes it with zbarimg."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    element_path, page_path = ARTIFACTS / f"{name}.png", ARTIFACTS / f"{name}-page.png"
    element.screenshot(str(element_path))
    driver.save_screenshot(str(page_path))
    for path in [element_path, page_path]:
        result = subprocess.run(["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(path)],
                                capture_output=True, text=True)
        if result.returncode == 0:
            return result.stdout.strip()
    pytest.fail("zbarimg could not read the QR code")


def fill(driver, **fields):
    for name, value in fields.items():
        box = driver.find_element(By.NAME, name)
        box.clear()
        box.send_keys(value)


def replaced(element):
    """A wait condition: the page holding `element` has been replaced by the next one. Chromium
    reports a node of a page being torn down either as stale or with a generic inspector error,
    so any WebDriver error means the old page is gone."""
    def check(_driver):
        try:
            element.is_enabled()
            return False
        except WebDriverException:
            return True
    return check


def click(driver, text):
    """Clicks a button or link by its visible text and waits for the next page to load."""
    page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.XPATH, f"//button[normalize-space()='{text}'] | //a[normalize-space()='{text}']").click()
    WebDriverWait(driver, 10).until(replaced(page))


def sign_in(driver, base, password=PASSWORD, email=EMAIL):
    driver.get(base + "/signin")
    fill(driver, email=email, password=password)
    click(driver, "Sign in")


def sign_up(driver, base, email):
    """A new account in a browser with no cookies, landing on the profile."""
    driver.delete_all_cookies()
    driver.get(base + "/signup")
    fill(driver, email=email, password=PASSWORD)
    click(driver, "Create account")
    assert driver.current_url == base + "/profile"


def confirm_password(driver, name=None):
    """The "Confirm it's you" page: asserts it is shown, types the password, confirms."""
    assert "/profile/confirm" in driver.current_url, driver.current_url
    assert "Confirm it" in driver.find_element(By.TAG_NAME, "h1").text
    if name:
        shot(driver, name)
    fill(driver, password=PASSWORD)
    click(driver, "Confirm")


def choose_app(driver):
    page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.XPATH, "//button[.//span[normalize-space()='App']]").click()
    WebDriverWait(driver, 10).until(replaced(page))


def recovery_codes(driver):
    return [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#recovery-codes li")]


def test_article_flow(server, browser):
    base, data = server
    d = browser

    # Sign up: the profile dashboard with its left-side menu.
    d.get(base + "/signup")
    shot(d, "01-sign-up")
    fill(d, email=EMAIL, password=PASSWORD)
    click(d, "Create account")
    assert d.current_url == base + "/profile"
    assert d.find_element(By.CSS_SELECTOR, "nav.side").text.find("Two-Factor Authentication") >= 0
    shot(d, "02-profile")
    cookies = {c["name"]: c for c in d.get_cookies()}
    session = cookies["__Host-twostep-session"]
    assert session["httpOnly"] and session["secure"] and session["sameSite"] == "Lax"

    # Profile Dashboard → Two-Factor Authentication → Enable → App.
    click(d, "Two-Factor Authentication")
    assert "Disabled" in d.find_element(By.ID, "status").text
    shot(d, "03-two-factor-off")
    click(d, "Enable")
    # Adding a method needs the password first (a stolen session must not add the thief's phone).
    confirm_password(d, "04a-confirm")
    assert d.current_url == base + "/profile/two-factor/enable"
    shot(d, "04-choose-method")
    choose_app(d)
    shot(d, "05-app-qr")

    # Scan the QR code as the phone would, and check it against the key shown for manual entry.
    uri = decode_qr(d, d.find_element(By.CSS_SELECTOR, "#qr svg"), "05b-qr")
    assert uri.startswith("otpauth://totp/TwoStep:alice%40example.com?secret=")
    phone = Phone(uri)
    assert d.find_element(By.ID, "manual-key").text.replace(" ", "") == phone.secret

    # A wrong code keeps the page and the key.
    fill(d, code="000000")
    click(d, "Activate 2-step verification")
    assert "not right" in d.find_element(By.CSS_SELECTOR, ".error").text
    assert d.find_element(By.ID, "manual-key").text.replace(" ", "") == phone.secret
    fill(d, code=phone.fresh_code())
    click(d, "Activate 2-step verification")
    assert "Enabled" in d.find_element(By.ID, "status").text
    shot(d, "06-two-factor-on")

    # Sign out; sign in with password + code.
    click(d, "Sign out")
    sign_in(d, base)
    assert d.current_url == base + "/signin/code"
    shot(d, "07-security-code")
    used = phone.fresh_code()
    fill(d, code=used)
    click(d, "Verify")
    assert d.current_url == base + "/profile", d.find_element(By.TAG_NAME, "main").text

    # The same code again, in a new sign-in: refused.
    click(d, "Sign out")
    sign_in(d, base)
    fill(d, code=used)
    click(d, "Verify")
    assert "already used" in d.find_element(By.CSS_SELECTOR, ".error").text
    shot(d, "08-code-replayed")

    # A fresh code with "Trust this device"; the next sign-in needs no code.
    fill(d, code=phone.fresh_code())
    d.find_element(By.NAME, "trust").click()
    click(d, "Verify")
    assert d.current_url == base + "/profile"
    click(d, "Sign out")
    sign_in(d, base)
    assert d.current_url == base + "/profile", "a trusted device skips the code"

    # The device is listed; revoke it and the code is asked again.
    d.get(base + "/profile/two-factor")
    assert "(this browser)" in d.page_source
    shot(d, "09-trusted-device")
    click(d, "Revoke")
    assert "no longer trusted" in d.find_element(By.CSS_SELECTOR, ".notice").text
    click(d, "Sign out")
    sign_in(d, base)
    assert d.current_url == base + "/signin/code", "revoked: the code is asked again"
    fill(d, code=phone.fresh_code())
    click(d, "Verify")

    # Disable: a confirmation page that needs the password, never a bare click.
    d.get(base + "/profile/two-factor")
    click(d, "Disable")
    shot(d, "10-disable-confirm")
    click(d, "Disable")
    assert "Enter your password" in d.find_element(By.CSS_SELECTOR, ".error").text
    fill(d, password=PASSWORD)
    click(d, "Disable")
    assert "Disabled" in d.find_element(By.ID, "status").text
    shot(d, "11-two-factor-off-again")
    events = d.find_element(By.CSS_SELECTOR, ".events").text
    for expected in ["Two-factor authentication enabled", "Two-factor authentication disabled", "Device trusted",
                     "Trusted device revoked", "Security code reused"]:
        assert expected in events

    # Without two-factor authentication, the password alone signs in again.
    click(d, "Sign out")
    sign_in(d, base)
    assert d.current_url == base + "/profile"


def test_recovery_codes(server, browser):
    """Generate tokens, print, sign in with one code, refuse it again, regenerate, refuse an old one."""
    base, _ = server
    d, email = browser, "bob@example.com"
    sign_up(d, base, email)
    d.get(base + "/profile/two-factor/enable")
    confirm_password(d)
    choose_app(d)
    phone = Phone(decode_qr(d, d.find_element(By.CSS_SELECTOR, "#qr svg"), "20-qr"))
    fill(d, code=phone.fresh_code())
    click(d, "Activate 2-step verification")
    assert "Now generate recovery codes" in d.find_element(By.CSS_SELECTOR, ".notice").text

    click(d, "Generate tokens")
    codes = recovery_codes(d)
    assert len(codes) == 10 and all(len(code) == 11 and code[5] == "-" for code in codes)
    shot(d, "21-recovery-codes")

    # The printable page, and what it prints as (Chromium's print-to-PDF).
    click(d, "Print")
    assert email in d.page_source and "Store this page somewhere safe" in d.page_source
    assert not d.find_elements(By.CSS_SELECTOR, "nav.side"), "no menu on the printed page"
    shot(d, "22-recovery-print")
    import base64
    (ARTIFACTS / "22-recovery-print.pdf").write_bytes(base64.b64decode(d.print_page()))

    # Sign in with one code, typed in capitals without the dash.
    d.get(base + "/profile")
    click(d, "Sign out")
    sign_in(d, base, email=email)
    click(d, "Use a recovery code")
    shot(d, "23-recovery-sign-in")
    fill(d, code=codes[0].upper().replace("-", ""))
    click(d, "Verify")
    assert "9 of 10" in d.find_element(By.ID, "recovery-remaining").text
    shot(d, "24-recovery-used")

    # The same code again is refused.
    click(d, "Sign out")
    sign_in(d, base, email=email)
    click(d, "Use a recovery code")
    fill(d, code=codes[0])
    click(d, "Verify")
    assert "not right" in d.find_element(By.CSS_SELECTOR, ".error").text

    # A new set: the old codes stop working. This session has not re-authenticated, so the password
    # is asked, and confirming shows the new codes at once.
    fill(d, code=codes[1])
    click(d, "Verify")
    d.get(base + "/profile/two-factor")
    click(d, "Generate tokens")
    # Signing in is not re-authentication (SPEC §2): the password is asked, and confirming shows the
    # new codes at once (issue 11: no second click on Generate tokens).
    confirm_password(d)
    assert d.current_url == base + "/profile/two-factor/recovery-codes?done=generated", d.current_url
    new_codes = recovery_codes(d)
    assert len(new_codes) == 10 and not set(new_codes) & set(codes)
    click(d, "Sign out")
    sign_in(d, base, email=email)
    click(d, "Use a recovery code")
    fill(d, code=codes[2])
    click(d, "Verify")
    assert "not right" in d.find_element(By.CSS_SELECTOR, ".error").text
    fill(d, code=new_codes[0])
    click(d, "Verify")
    assert "9 of 10" in d.find_element(By.ID, "recovery-remaining").text


def outbox(data):
    """The text messages the outbox gateway wrote, oldest first."""
    import json
    path = data / "sms-outbox.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def texted_code(data):
    return outbox(data)[-1]["message"]["body"][:6]


def wait_for_cooldown(data):
    """One text message a minute per account (SPEC §2): wait until the next one is allowed."""
    from datetime import datetime
    last = datetime.fromisoformat(outbox(data)[-1]["sentAt"].replace("Z", "+00:00")).timestamp()
    time.sleep(max(0, last + 61 - time.time()))


def test_sms_and_recovery_phone(server, browser):
    """Enable SMS and sign in with the texted code; add a recovery phone and sign in through it."""
    base, data = server
    d, email = browser, "carol@example.com"
    sign_up(d, base, email)
    d.get(base + "/profile/two-factor/enable")
    confirm_password(d)
    page = d.find_element(By.TAG_NAME, "html")
    d.find_element(By.XPATH, "//a[.//span[normalize-space()='SMS']]").click()
    WebDriverWait(d, 10).until(replaced(page))
    fill(d, phone="+31 6 1234 5612")
    shot(d, "30-sms-number")
    click(d, "Send code")
    assert "+31 •••• •••12" in d.find_element(By.ID, "masked-phone").text
    assert outbox(data)[-1]["message"]["to"] == "+31612345612"
    shot(d, "31-sms-code")
    fill(d, code=texted_code(data))
    click(d, "Activate 2-step verification")
    assert "Enabled" in d.find_element(By.ID, "status").text and "SMS to +31" in d.find_element(By.ID, "method").text

    # Sign in with a texted code.
    click(d, "Sign out")
    sign_in(d, base, email=email)
    wait_for_cooldown(data)
    click(d, "Send code")
    assert "We sent a code" in d.find_element(By.CSS_SELECTOR, ".notice").text
    shot(d, "32-sms-sign-in")
    fill(d, code=texted_code(data))
    click(d, "Verify")
    assert d.current_url == base + "/profile"

    # Add a recovery phone number, exactly like the SMS method (after the password: a new session).
    d.get(base + "/profile/two-factor")
    click(d, "Add recovery phone number")
    confirm_password(d)
    fill(d, phone="+44 20 7946 0958")
    wait_for_cooldown(data)
    click(d, "Send code")
    fill(d, code=texted_code(data))
    click(d, "Save recovery phone number")
    assert "+44" in d.find_element(By.ID, "recovery-phone").text
    shot(d, "33-recovery-phone")

    # Sign in through the recovery phone.
    click(d, "Sign out")
    sign_in(d, base, email=email)
    wait_for_cooldown(data)
    click(d, "Send a code to my recovery phone (+44 •••• •••• 58)")
    assert outbox(data)[-1]["message"]["to"] == "+442079460958"
    fill(d, code=texted_code(data))
    click(d, "Verify")
    assert d.current_url == base + "/profile"


def test_reauthentication_continues_what_was_asked(server, browser):
    """Issue 11: after "Confirm it's you" the action asked for happens, without clicking it again.
    Each flow is one click (and one page) shorter than before: the page after Confirm is the goal."""
    base, data = server
    d, email = browser, "dan@example.com"
    sign_up(d, base, email)

    # Enable → password → the method choice (not back to the Two-Factor page).
    d.get(base + "/profile/two-factor")
    click(d, "Enable")
    confirm_password(d, "40-confirm-enable")
    assert d.current_url == base + "/profile/two-factor/enable"
    choose_app(d)
    phone = Phone(decode_qr(d, d.find_element(By.CSS_SELECTOR, "#qr svg"), "41-qr"))
    fill(d, code=phone.fresh_code())
    click(d, "Activate 2-step verification")

    # A new session (sign out and in): nothing sensitive is open.
    click(d, "Sign out")
    sign_in(d, base, email=email)
    fill(d, code=phone.fresh_code())
    click(d, "Verify")

    # Generate tokens → password → the ten codes.
    d.get(base + "/profile/two-factor")
    click(d, "Generate tokens")
    confirm_password(d, "42-confirm-generate")
    codes = recovery_codes(d)
    assert len(codes) == 10 and "replace any earlier ones" in d.find_element(By.CSS_SELECTOR, ".notice").text
    shot(d, "43-codes-after-confirm")

    # Show → password → the codes (a new session again, so the password is asked again).
    click(d, "Sign out")
    sign_in(d, base, email=email)
    fill(d, code=phone.fresh_code())
    click(d, "Verify")
    d.get(base + "/profile/two-factor")
    click(d, "Show")
    confirm_password(d)
    assert recovery_codes(d) == codes

    # Add recovery phone number → password → the number form; save it; then Remove → password → removed.
    click(d, "Sign out")
    sign_in(d, base, email=email)
    fill(d, code=phone.fresh_code())
    click(d, "Verify")
    d.get(base + "/profile/two-factor")
    click(d, "Add recovery phone number")
    confirm_password(d)
    assert d.current_url == base + "/profile/two-factor/recovery-phone"
    fill(d, phone="+44 20 7946 0777")
    click(d, "Send code")
    fill(d, code=texted_code(data))
    click(d, "Save recovery phone number")
    assert "+44" in d.find_element(By.ID, "recovery-phone").text
    click(d, "Sign out")
    sign_in(d, base, email=email)
    fill(d, code=phone.fresh_code())
    click(d, "Verify")
    d.get(base + "/profile/two-factor")
    click(d, "Remove recovery phone number")
    confirm_password(d)
    assert "recovery phone number is removed" in d.find_element(By.CSS_SELECTOR, ".notice").text
    assert not d.find_elements(By.ID, "recovery-phone")


def test_sign_out_everywhere(server, browser):
    """The profile page's "Sign out everywhere" ends this browser's session and every other one."""
    base, _ = server
    d, email = browser, "erin@example.com"
    sign_up(d, base, email)
    other = urllib.request.urlopen(urllib.request.Request(
        base + "/api/v1/session", data=('{"email": "%s", "password": "%s"}' % (email, PASSWORD)).encode(),
        headers={"Content-Type": "application/json"}, method="POST"))
    import json
    token = json.loads(other.read())["token"]
    d.get(base + "/profile")
    click(d, "Sign out everywhere")
    assert d.current_url.startswith(base + "/signin")
    assert "signed out on every device" in d.find_element(By.CSS_SELECTOR, ".notice").text
    request = urllib.request.Request(base + "/api/v1/account", headers={"Authorization": "Bearer " + token})
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request)
    assert error.value.code == 401


def test_forged_form_is_refused(server, browser):
    """A POST without the page's CSRF token (as another site would send) is refused."""
    base, _ = server
    request = urllib.request.Request(base + "/signin", data=b"email=a%40b.c&password=x", method="POST")
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request)
    assert error.value.code == 403
