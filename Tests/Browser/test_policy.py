"""Issue 18 in a real browser: the operator's 2FA policy at sign-in, against live `twostep serve`
processes started with the policy flags.

- With grace (`--require-2fa domains:corp.example --grace-days 7`): right after the password,
  "Set up two-factor authentication to continue" with the days left and **Not now**, which works;
  then the server's clock is moved (a debug build's TWOSTEP_TEST_CLOCK_FILE) past the deadline
  during the session, and no page opens until the app is on.
- Without grace (`--require-2fa all --grace-days 0`): no Not now and no way past; sign-out works.
- `--allowed-methods app,key`: SMS is not offered, and an account whose only method is SMS (set up
  while SMS was allowed) is asked to switch after its texted code, and switches to the app.

Codes: pyotp from the key on the App page, at the server's (moved) time; SMS codes from the outbox file.
Run: .venv/bin/python -m pytest Tests/Browser/test_policy.py  (after `swift build`)
"""

import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pyotp
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from test_two_factor_flow import BINARY, PASSWORD, browser, click, choose_app, confirm_password, fill, free_port, replaced, shot  # noqa: F401

DAY = 86_400


class Server:
    """`twostep serve` on `data` with `flags`; its clock runs `offset` seconds ahead (the clock file)."""

    def __init__(self, data, flags):
        self.data = Path(data)
        self.clock_file = self.data.parent / (self.data.name + "-clock")
        self.move_clock(0)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(self.data.parent / (self.data.name + f"-{self.port}.log"), "w")
        environment = dict(os.environ, TWOSTEP_TEST_CLOCK_FILE=str(self.clock_file))
        self.process = subprocess.Popen(
            [str(BINARY), "serve", "--port", str(self.port), "--data-dir", str(self.data), "--drain-seconds", "0"] + flags,
            stdout=self.log, stderr=subprocess.STDOUT, env=environment,
        )
        for _ in range(200):
            try:
                urllib.request.urlopen(self.base + "/health", timeout=1)
                return
            except OSError:
                time.sleep(0.1)
        self.process.kill()
        pytest.fail("the server did not start: " + Path(self.log.name).read_text())

    def move_clock(self, seconds):
        self.offset = seconds
        self.clock_file.write_text(str(seconds))

    def now(self):
        return time.time() + self.offset

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=15)
        self.log.close()

    def last_sms_code(self):
        lines = (self.data / "sms-outbox.jsonl").read_text().splitlines()
        return json.loads(lines[-1])["message"]["body"][:6]


@pytest.fixture(scope="module")
def folder():
    path = tempfile.mkdtemp(prefix="twostep-policy-")
    yield Path(path)
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def graced(folder, browser):
    """Domains policy with 7 days' grace and SMS no longer allowed. Before it starts, the same data
    directory is served with the defaults once, for an account that set up SMS while it was allowed."""
    data = folder / "graced"
    before = Server(data, [])
    browser.delete_all_cookies()
    browser.get(before.base + "/signup")
    fill(browser, email="bob@home.example", password=PASSWORD)
    click(browser, "Create account")
    browser.get(before.base + "/profile/two-factor/enable")
    confirm_password(browser)
    page = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.XPATH, "//a[.//span[normalize-space()='SMS']]").click()
    WebDriverWait(browser, 10).until(replaced(page))
    fill(browser, phone="+31612345678")
    click(browser, "Send code")
    fill(browser, code=before.last_sms_code())
    click(browser, "Activate 2-step verification")
    assert "/profile/two-factor" in browser.current_url
    before.stop()
    server = Server(data, ["--require-2fa", "domains:corp.example", "--grace-days", "7", "--allowed-methods", "app,key"])
    yield server
    server.stop()


@pytest.fixture(scope="module")
def strict(folder):
    server = Server(folder / "strict", ["--require-2fa", "all", "--grace-days", "0"])
    yield server
    server.stop()


def sign_up_and_out(d, server, email):
    d.delete_all_cookies()
    d.get(server.base + "/signup")
    fill(d, email=email, password=PASSWORD)
    click(d, "Create account")
    click(d, "Sign out")


def sign_in(d, server, email):
    d.get(server.base + "/signin")
    fill(d, email=email, password=PASSWORD)
    click(d, "Sign in")


def heading(d):
    return d.find_element(By.TAG_NAME, "h1").text


def has_not_now(d):
    return bool(d.find_elements(By.ID, "not-now"))


def enrol_app(d, server):
    """On the method choice: App, the key into pyotp, its code at the server's time, activate."""
    assert not d.find_elements(By.XPATH, "//*[normalize-space()='SMS']"), "SMS is not offered"
    choose_app(d)
    key = d.find_element(By.ID, "manual-key").text.replace(" ", "")
    fill(d, code=pyotp.TOTP(key).at(server.now()))
    click(d, "Activate 2-step verification")


def test_grace_not_now_then_the_deadline_passes(graced, browser):
    d, server = browser, graced
    sign_up_and_out(d, server, "ann@corp.example")
    sign_in(d, server, "ann@corp.example")
    assert d.current_url == server.base + "/profile/two-factor/enable"
    assert heading(d) == "Set up two-factor authentication to continue"
    assert "7 days left" in d.find_element(By.ID, "grace-left").text
    assert not d.find_elements(By.XPATH, "//*[normalize-space()='SMS']"), "SMS is not offered"
    shot(d, "policy-01-grace")
    click(d, "Not now")
    assert d.current_url == server.base + "/profile"

    # Six days and 23 h 40 min on (the sessions have ended meanwhile): the grace counts from the first sign-in.
    server.move_clock(7 * DAY - 20 * 60)
    sign_in(d, server, "ann@corp.example")
    assert "1 day left" in d.find_element(By.ID, "grace-left").text
    click(d, "Not now")
    assert d.current_url == server.base + "/profile"

    # The deadline passes during the session: every page leads to enrolment, with no Not now.
    server.move_clock(7 * DAY + 60)
    for path in ["/profile", "/profile/two-factor", "/profile/email"]:
        d.get(server.base + path)
        assert "/profile/confirm" in d.current_url or d.current_url == server.base + "/profile/two-factor/enable", path
    confirm_password(d)
    assert heading(d) == "Set up two-factor authentication to continue"
    assert not has_not_now(d)
    shot(d, "policy-02-deadline-passed")
    enrol_app(d, server)
    d.get(server.base + "/profile")
    assert d.current_url == server.base + "/profile", "a method is on: the profile opens"


def test_no_grace_no_way_past(strict, browser):
    d, server = browser, strict
    sign_up_and_out(d, server, "carl@example.com")
    sign_in(d, server, "carl@example.com")
    assert d.current_url == server.base + "/profile/two-factor/enable"
    assert heading(d) == "Set up two-factor authentication to continue"
    assert not has_not_now(d) and "days left" not in d.page_source
    shot(d, "policy-03-no-grace")
    for path in ["/profile", "/profile/two-factor", "/profile/two-factor/disable", "/signin/continue"]:
        d.get(server.base + path)
        assert d.current_url == server.base + "/profile/two-factor/enable", path
    click(d, "Sign out")
    assert "/signin" in d.current_url, "sign-out still works"
    sign_in(d, server, "carl@example.com")
    assert d.current_url == server.base + "/profile/two-factor/enable"
    choose_app(d)
    key = d.find_element(By.ID, "manual-key").text.replace(" ", "")
    fill(d, code=pyotp.TOTP(key).at(server.now()))
    click(d, "Activate 2-step verification")
    d.get(server.base + "/profile")
    assert d.current_url == server.base + "/profile"


def test_an_sms_only_account_is_asked_to_switch(graced, browser):
    d, server = browser, graced
    server.move_clock(120)  # past the 60 s resend cooldown of the SMS that enrolled the phone
    d.delete_all_cookies()
    sign_in(d, server, "bob@home.example")
    assert "/signin/code" in d.current_url
    click(d, "Send code")
    fill(d, code=server.last_sms_code())
    click(d, "Verify")
    assert d.current_url == server.base + "/profile/two-factor/enable", "asked to switch right after the code"
    assert "no longer accepts" in d.page_source
    assert "7 days left" in d.find_element(By.ID, "grace-left").text and has_not_now(d)
    shot(d, "policy-04-switch")
    enrol_app(d, server)
    d.get(server.base + "/profile/two-factor")
    assert d.find_element(By.ID, "method").text == "App (authenticator app)", "the app replaced SMS"
    assert "SMS to" not in d.find_element(By.CSS_SELECTOR, "dl.facts").text
