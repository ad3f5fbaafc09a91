"""Issue 15 in a real browser: the links arrive at a real SMTP server (aiosmtpd in this process),
the reset link is followed through the second factor to a new password, and each alert arrives once.

Run: .venv/bin/python -m pytest Tests/Browser/test_email_reset.py  (after `swift build`)
"""

import asyncio
import email
import email.policy
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP
from selenium.webdriver.common.by import By

from test_two_factor_flow import BINARY, PASSWORD, Phone, browser, click, confirm_password, choose_app, fill, free_port, shot  # noqa: F401

EMAIL = "erin@example.com"
NEW_PASSWORD = "a brand new passphrase"


class Mailbox:
    """An SMTP server on 127.0.0.1 that keeps every message it accepts, parsed."""

    def __init__(self):
        self.messages = []
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()

        class Handler:
            async def handle_DATA(handler, server, session, envelope):
                parsed = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
                self.messages.append(parsed)
                return "250 OK"

        def run():
            asyncio.set_event_loop(self.loop)
            server = self.loop.run_until_complete(
                self.loop.create_server(lambda: SMTP(Handler(), hostname="localhost"), "127.0.0.1", 0)
            )
            self.port = server.sockets[0].getsockname()[1]
            ready.set()
            self.loop.run_forever()

        threading.Thread(target=run, daemon=True).start()
        ready.wait(10)

    def wait_for(self, predicate, what, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            found = [m for m in self.messages if predicate(m)]
            if found:
                return found
            time.sleep(0.1)
        pytest.fail(f"no {what} arrived; subjects: {[m['Subject'] for m in self.messages]}")

    @staticmethod
    def text(message):
        return message.get_body(preferencelist=("plain",)).get_content()

    def link(self, subject, path):
        message = self.wait_for(lambda m: m["Subject"] == subject, subject)[-1]
        found = re.search(r"(http://\S+" + re.escape(path) + r"\?token=[A-Za-z0-9_-]+)", self.text(message))
        assert found, self.text(message)
        return found.group(1)


@pytest.fixture(scope="module")
def mailbox():
    return Mailbox()


@pytest.fixture(scope="module")
def smtp_server(mailbox):
    """`twostep serve` sending through the SMTP server above."""
    assert BINARY.exists(), f"build first: {BINARY} is missing"
    data = tempfile.mkdtemp(prefix="twostep-browser-mail-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    environment = dict(os.environ)
    environment.update({
        "TWOSTEP_MAIL": "smtp", "TWOSTEP_SMTP_HOST": "127.0.0.1", "TWOSTEP_SMTP_PORT": str(mailbox.port),
        "TWOSTEP_SMTP_SECURITY": "none", "TWOSTEP_SMTP_FROM": "twostep@example.com", "TWOSTEP_PUBLIC_URL": base,
    })
    log = open(Path(data) / "server.log", "w")
    process = subprocess.Popen(
        [str(BINARY), "serve", "--port", str(port), "--data-dir", data], stdout=log, stderr=subprocess.STDOUT, env=environment
    )
    for _ in range(300):
        try:
            urllib.request.urlopen(base + "/health", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("the server did not start: " + (Path(data) / "server.log").read_text())
    yield base
    process.terminate()
    process.wait(timeout=30)
    log.close()
    shutil.rmtree(data, ignore_errors=True)


def test_reset_link_through_the_second_factor(smtp_server, mailbox, browser):
    base, d = smtp_server, browser
    d.delete_all_cookies()

    # Sign up; the link that confirms the address arrives by SMTP.
    d.get(base + "/signup")
    fill(d, email=EMAIL, password=PASSWORD)
    click(d, "Create account")
    assert "unverified" in d.find_element(By.TAG_NAME, "main").text
    d.get(mailbox.link("Confirm your e-mail address for TwoStep", "/verify-email"))
    click(d, "Confirm my address")
    assert "confirmed" in d.find_element(By.CSS_SELECTOR, ".notice").text
    shot(d, "60-address-confirmed")

    # Turn on 2FA with the app (the key for manual entry stands in for the QR code here).
    d.get(base + "/profile/two-factor/enable")
    confirm_password(d)
    choose_app(d)
    key = d.find_element(By.ID, "manual-key").text.replace(" ", "")
    phone = Phone("otpauth://totp/TwoStep:x?secret=" + key)
    fill(d, code=phone.fresh_code())
    click(d, "Activate 2-step verification")
    assert "Enabled" in d.find_element(By.ID, "status").text

    # Forgot your password? from the sign-in page, in a browser that is signed out.
    d.delete_all_cookies()
    d.get(base + "/signin")
    click(d, "Forgot your password?")
    fill(d, email=EMAIL)
    click(d, "Send reset link")
    assert "If an account uses that address" in d.find_element(By.CSS_SELECTOR, ".notice").text
    link = mailbox.link("Reset your TwoStep password", "/reset")
    d.get(link)
    shot(d, "61-reset-second-factor")
    assert "Security code or recovery code" in d.find_element(By.TAG_NAME, "main").text
    fill(d, code=phone.fresh_code())
    click(d, "Verify")
    shot(d, "62-reset-new-password")
    fill(d, password=NEW_PASSWORD)
    click(d, "Set new password")
    assert "/signin" in d.current_url and "every session has ended" in d.find_element(By.CSS_SELECTOR, ".notice").text

    # The new password works, and still asks for the code; the old link is dead.
    fill(d, email=EMAIL, password=NEW_PASSWORD)
    click(d, "Sign in")
    assert "/signin/code" in d.current_url
    fill(d, code=phone.fresh_code())
    click(d, "Verify")
    assert d.current_url == base + "/profile"
    d.get(link)
    assert "does not work any more" in d.find_element(By.TAG_NAME, "main").text

    # Each alert exactly once (the dispatcher runs every second: wait, then count).
    mailbox.wait_for(lambda m: "was reset" in m["Subject"], "password-reset alert")
    time.sleep(3)
    subjects = [m["Subject"] for m in mailbox.messages if m["Auto-Submitted"] and "TwoStep: " in m["Subject"]]
    assert sorted(subjects) == ["TwoStep: Two-factor authentication was turned on", "TwoStep: Your password was reset"], subjects
    for alert in [m for m in mailbox.messages if m["Subject"] in subjects]:
        body = mailbox.text(alert)
        assert "Wasn’t you?" in body and "Browser: Chrome on Linux" in body and "http" not in body
