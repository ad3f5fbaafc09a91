"""Issue 18 in a real browser: the help-desk console at /admin, used by a support member and by an
admin on a person's account, with real TOTP codes (pyotp) and roles given by `twostep user grant`.

Two browsers at once: the staff member's and the person's, so each action's effect is seen where it
lands (the person's sign-in, their session, their trusted browser).

Run: .venv/bin/python -m pytest Tests/Browser/test_help_desk.py  (after `swift build`)
"""

import shutil
import subprocess
import time

import pyotp
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from test_two_factor_flow import BINARY, PASSWORD, browser, click, confirm_password, choose_app, fill, server, shot  # noqa: F401

PERSON = "pat@example.com"


@pytest.fixture(scope="module")
def second_browser():
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000"]:
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    driver.implicitly_wait(2)
    yield driver
    driver.quit()


class App:
    """An authenticator app holding one key (pyotp): each code once, as the server's replay guard wants."""

    def __init__(self, secret):
        self.totp = pyotp.TOTP(secret)
        self.last_step = None

    def code(self):
        now = int(time.time()) // 30
        step = now if self.last_step is None or self.last_step < now else self.last_step + 1
        while step > int(time.time()) // 30 + 1:  # one step ahead is the most the server accepts
            time.sleep(0.5)
        self.last_step = step
        return self.totp.at(step * 30)


def grant(data, role, email):
    """`twostep user grant`, run by the operator beside the running server."""
    result = subprocess.run(
        [str(BINARY), "user", "grant", "--role", role, "--operator", "ops", "--data-dir", str(data), email],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def sign_up(d, base, email):
    d.delete_all_cookies()
    d.get(base + "/signup")
    fill(d, email=email, password=PASSWORD)
    click(d, "Create account")
    assert d.current_url == base + "/profile"


def enrol_app(d, base):
    """From any profile page with 2FA off: Enable → Confirm it's you → App → activate. Returns the app."""
    d.get(base + "/profile/two-factor/enable")
    if "/profile/confirm" in d.current_url:
        confirm_password(d)
    choose_app(d)
    app = App(d.find_element(By.ID, "manual-key").text.replace(" ", ""))
    fill(d, code=app.code())
    click(d, "Activate 2-step verification")
    assert "Enabled" in d.find_element(By.ID, "status").text
    return app


def notice(d):
    return d.find_element(By.CSS_SELECTOR, ".notice").text


def open_account(d, base, query, email):
    d.get(base + "/admin")
    fill(d, q=query)
    click(d, "Search")
    click(d, email)
    assert d.find_element(By.ID, "account-name").text == email
    return d.current_url


def act(d, button, reason=None):
    """Submits one of the account page's action forms, typing a reason into that form first."""
    form = d.find_element(By.XPATH, f"//form[.//button[normalize-space()='{button}']]")
    if reason is not None:
        box = form.find_element(By.NAME, "reason")
        box.clear()
        box.send_keys(reason)
    click(d, button)


def forged_role_change(d, account_url, role):
    """What a support member's own browser could send though no form offers it: a role change with
    the page's valid CSRF token. Built with WebDriver (no script on the page: the CSP forbids it)."""
    token = d.find_element(By.NAME, "csrf_token").get_attribute("value")
    d.execute_script(
        """
        const form = document.createElement('form');
        form.method = 'post';
        form.action = arguments[0] + '/role';
        for (const [name, value] of [['csrf_token', arguments[1]], ['role', arguments[2]]]) {
            const input = document.createElement('input');
            input.name = name; input.value = value; form.appendChild(input);
        }
        document.body.appendChild(form);
        form.submit();
        """,
        account_url, token, role,
    )
    WebDriverWait(d, 10).until(lambda driver: "/role" in driver.current_url)


def test_support_and_admin_at_the_console(server, browser, second_browser):
    base, data = server
    staff, person = browser, second_browser

    # The person: an ordinary account with an authenticator app, and no console.
    sign_up(person, base, PERSON)
    person_app = enrol_app(person, base)
    person.get(base + "/admin")
    assert "Help desk" not in person.page_source and "Find an account" not in person.page_source
    person.get(base + "/profile")
    assert "Help desk" not in person.find_element(By.CSS_SELECTOR, "nav.side").text, "no console link for a non-staff account"

    # A support member without 2FA is told so and sent to enrol.
    sign_up(staff, base, "sam@example.com")
    assert "cannot use the console until" in grant(data, "support", "sam@example.com")
    staff.get(base + "/profile")
    click(staff, "Help desk")
    assert "Turn on two-factor authentication first" in staff.find_element(By.TAG_NAME, "h1").text
    shot(staff, "help-desk-01-needs-2fa")
    click(staff, "Set up two-factor authentication")
    confirm_password(staff)
    choose_app(staff)
    staff_app = App(staff.find_element(By.ID, "manual-key").text.replace(" ", ""))
    fill(staff, code=staff_app.code())
    click(staff, "Activate 2-step verification")
    assert "Enabled" in staff.find_element(By.ID, "status").text

    # Support finds the account: masked methods, no role form.
    account = open_account(staff, base, "pat@", PERSON)
    assert "App (authenticator app)" in staff.find_element(By.ID, "methods").text
    assert not staff.find_elements(By.ID, "role-choice"), "support is offered no role change"
    shot(staff, "help-desk-02-account")

    # The person locks themselves out with wrong codes; support unlocks; the right code then works.
    click(person, "Sign out")
    person.get(base + "/signin")
    fill(person, email=PERSON, password=PASSWORD)
    click(person, "Sign in")
    for _ in range(6):
        fill(person, code="000000")
        click(person, "Verify")
    assert "Too many wrong codes" in person.find_element(By.CSS_SELECTOR, ".error").text
    staff.get(account)
    assert "waiting until" in staff.find_element(By.ID, "locks").text
    act(staff, "Unlock", "ticket 1001: locked out")
    assert "Unlocked" in notice(staff)
    assert "waiting until" not in staff.find_element(By.ID, "locks").text
    fill(person, code=person_app.code())
    person.find_element(By.NAME, "trust").click()
    click(person, "Verify")
    assert person.current_url == base + "/profile", person.find_element(By.TAG_NAME, "main").text

    # Revoke trusted devices, then sign out everywhere: the person's browser is signed out.
    staff.get(account)
    assert staff.find_elements(By.CSS_SELECTOR, "table#devices tbody tr")
    act(staff, "Revoke trusted devices", "ticket 1002")
    assert "No browser is trusted" in notice(staff)
    assert not staff.find_elements(By.CSS_SELECTOR, "table#devices")
    act(staff, "Sign out everywhere", "ticket 1003")
    assert "Every session" in notice(staff)
    person.get(base + "/profile")
    assert person.current_url == base + "/signin"

    # Support may not change roles, even by sending the form no page offers.
    forged_role_change(staff, account, "admin")
    assert "Only admins" in staff.page_source
    shot(staff, "help-desk-03-support-refused-role")

    # Reset needs a reason; then the person must enrol again at the next sign-in.
    staff.get(account)
    act(staff, "Reset two-factor authentication", "lost phone, ticket 1004")
    assert "must set up a method" in notice(staff)
    assert "none" in staff.find_element(By.ID, "methods").text
    person.get(base + "/signin")
    fill(person, email=PERSON, password=PASSWORD)
    click(person, "Sign in")
    assert "two%2Dfactor%2Fenable" in person.current_url or person.current_url.endswith("/profile/two-factor/enable"), person.current_url
    enrol_app(person, base)

    # An admin: the audit trail names the support member, the reasons and the address.
    sign_up(staff, base, "ada@example.com")
    grant(data, "admin", "ada@example.com")
    enrol_app(staff, base)
    staff.get(base + "/admin")
    click(staff, "Audit trail")
    trail = staff.find_element(By.ID, "audit").text
    assert "operator_reset" in trail and "staff sam@example.com" in trail and "lost phone, ticket 1004" in trail
    assert "127.0.0.1" in trail
    shot(staff, "help-desk-04-audit")

    # The admin takes each action too, and changes roles.
    account = open_account(staff, base, "pat@ex", PERSON)
    act(staff, "Unlock")
    assert "Unlocked" in notice(staff)
    act(staff, "Revoke trusted devices")
    assert "No browser is trusted" in notice(staff)
    act(staff, "Sign out everywhere", "admin check")
    assert "Every session" in notice(staff)
    person.get(base + "/profile")
    assert person.current_url == base + "/signin"
    act(staff, "Reset two-factor authentication", "second lost phone")
    assert "must set up a method" in notice(staff)
    staff.find_element(By.CSS_SELECTOR, "#role-choice option[value='support']").click()
    act(staff, "Change role", "joins the help desk")
    assert "The role is changed" in notice(staff) and staff.find_element(By.ID, "role").text == "support"
    shot(staff, "help-desk-05-admin-role")

    # The admin cannot act on their own account.
    open_account(staff, base, "ada@", "ada@example.com")
    assert "your own account" in staff.find_element(By.ID, "actions-refused").text
    assert not staff.find_elements(By.ID, "role-choice")
