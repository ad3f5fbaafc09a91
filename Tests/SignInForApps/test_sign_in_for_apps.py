"""TwoStep's sign-in protecting real applications (issue 14), with real parts only.

- nginx (Debian's) runs the README's "Protect an app behind nginx" configuration: `auth_request`
  to `twostep serve`'s /auth/verify in front of a tiny upstream application;
- the README's OpenID Connect relying party (relying_party.py: Flask + Authlib) signs in through
  `twostep serve`, and Authlib validates the ID token (ES256 signature against the JWKS, iss, aud,
  exp, nonce) and PKCE;
- Chromium (Selenium) is the person: password, then the authenticator-app code (pyotp is the phone).

Host names: the README's example.com becomes example.test, mapped to 127.0.0.1 for Chromium
(--host-resolver-rules) and for this process (the relying party's calls to TwoStep), so the cookie
domain and `rd` rules work as they would in production; plain HTTP (--insecure-cookies true).

Run: .venv/bin/python -m pytest Tests/SignInForApps  (after `swift build`; .ci/run does both)
"""

import base64
import hashlib
import os
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyotp
import pytest
import requests
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BINARY = Path(os.environ.get("TWOSTEP_BIN", ROOT / ".build" / "debug" / "twostep"))
ARTIFACTS = Path(os.environ.get("TWOSTEP_ARTIFACTS", ROOT / "ci-artifacts" / "sign-in-for-apps"))
PASSWORD = "correct horse battery staple"

_real_getaddrinfo = socket.getaddrinfo


def _resolve_example_test(host, *args, **kwargs):
    """This process's answer for *.example.test, as Chromium's --host-resolver-rules gives it."""
    if isinstance(host, str) and (host == "example.test" or host.endswith(".example.test")):
        host = "127.0.0.1"
    return _real_getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _resolve_example_test


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def readme_block(section, language):
    """The first ```language block of a README section: the examples CI runs are the ones documented."""
    text = (ROOT / "README.md").read_text()
    body = text.split("## " + section + "\n", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```" + language + r"\n(.*?)```", body, re.S)
    assert match, f"no {language} block in README section {section!r}"
    return match.group(1)


def wait_for(url, process=None, log=None):
    for _ in range(150):
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            if process is not None and process.poll() is not None:
                break
            time.sleep(0.1)
    pytest.fail(f"{url} did not come up: " + (Path(log).read_text() if log else ""))


class Upstream(BaseHTTPRequestHandler):
    """The protected application: says who nginx told it the request is for."""

    def do_GET(self):
        body = (f"<h1>Protected application</h1><p id='user'>{self.headers.get('Remote-User', '')}</p>"
                f"<p id='email'>{self.headers.get('Remote-Email', '')}</p>"
                f"<p id='methods'>{self.headers.get('Remote-Methods', '')}</p>").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def world():
    """nginx, `twostep serve`, the upstream application and the relying party, all on 127.0.0.1."""
    assert BINARY.exists(), f"build first: {BINARY} is missing"
    work = Path(tempfile.mkdtemp(prefix="twostep-apps-"))
    data = work / "data"
    port_nginx, port_twostep, port_app, port_rp = free_port(), free_port(), free_port(), free_port()
    auth = f"http://auth.example.test:{port_nginx}"
    app = f"http://app.example.test:{port_nginx}"
    rp = f"http://127.0.0.1:{port_rp}"
    processes = []

    def readme_command(line):
        return (line.replace("--port 8080", f"--port {port_twostep}").replace("https://auth.example.com", auth)
                .replace("https://portal.example.com/callback", rp + "/callback").replace("example.com", "example.test"))

    # The README's commands, with this run's ports and names.
    commands = [line for line in readme_block("Protect an app behind nginx", "sh").splitlines() if line.startswith("twostep serve")]
    assert len(commands) == 1
    serve = readme_command(commands[0]).split()[1:] + ["--data-dir", str(data), "--insecure-cookies", "true", "--log-level", "warning"]
    log = open(work / "twostep.log", "w")
    twostep = subprocess.Popen([str(BINARY)] + serve, stdout=log, stderr=subprocess.STDOUT)
    processes.append(twostep)
    wait_for(f"http://127.0.0.1:{port_twostep}/health", twostep, work / "twostep.log")

    add = [line for line in readme_block("Use TwoStep as an OpenID Connect provider", "sh").splitlines() if line.startswith("twostep client add")]
    assert len(add) == 1
    printed = subprocess.run([str(BINARY)] + readme_command(add[0]).split()[1:] + ["--data-dir", str(data)],
                             check=True, capture_output=True, text=True).stdout
    client_id = re.search(r"client_id: (\S+)", printed).group(1)
    client_secret = re.search(r"client_secret: (\S+)", printed).group(1)
    # A second, public client whose redirect URI nothing answers: codes land in the browser's address
    # bar, for the refusals below to redeem by hand.
    probe = subprocess.run([str(BINARY), "client", "add", "--name", "probe", "--public", "--redirect-uri", rp + "/probe",
                            "--data-dir", str(data)], check=True, capture_output=True, text=True).stdout
    probe_id = re.search(r"client_id: (\S+)", probe).group(1)

    upstream = ThreadingHTTPServer(("127.0.0.1", port_app), Upstream)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()

    # nginx with the README's server blocks.
    servers = (readme_block("Protect an app behind nginx", "nginx").replace("listen 443 ssl;", f"listen 127.0.0.1:{port_nginx};")
               .replace("127.0.0.1:8080", f"127.0.0.1:{port_twostep}").replace("127.0.0.1:3000", f"127.0.0.1:{port_app}")
               .replace("example.com", "example.test"))
    (work / "nginx.conf").write_text(f"""daemon off;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {work}/nginx-access.log;
    client_body_temp_path {work}/client_body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
{servers}
}}
""")
    nginx = subprocess.Popen(["nginx", "-p", str(work), "-c", str(work / "nginx.conf")],
                             stdout=subprocess.DEVNULL, stderr=open(work / "nginx.log", "w"))
    processes.append(nginx)
    wait_for(auth + "/health", nginx, work / "nginx.log")

    # The README's relying party, in this process (so it resolves example.test like the browser).
    os.environ.update(APP_SECRET_KEY=secrets.token_hex(16), TWOSTEP_URL=auth, TWOSTEP_CLIENT_ID=client_id,
                      TWOSTEP_CLIENT_SECRET=client_secret)
    from werkzeug.serving import make_server
    import importlib.util
    spec = importlib.util.spec_from_file_location("relying_party", HERE / "relying_party.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rp_server = make_server("127.0.0.1", port_rp, module.app, threaded=True)
    threading.Thread(target=rp_server.serve_forever, daemon=True).start()

    yield dict(auth=auth, app=app, rp=rp, probe_id=probe_id, work=work, data=data)

    rp_server.shutdown()
    upstream.shutdown()
    for process in processes:
        process.terminate()
        process.wait(timeout=10)
    log.close()
    if os.environ.get("KEEP") != "1":
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="module")
def driver():
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1200,900",
                     "--host-resolver-rules=MAP *.example.test 127.0.0.1"]:
        options.add_argument(argument)
    d = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    d.implicitly_wait(2)
    yield d
    d.quit()


class Phone:
    """The authenticator app: each code once, as a person would (the server refuses a step twice)."""

    def __init__(self, secret):
        self.totp = pyotp.TOTP(secret)
        self.last_step = None

    def code(self):
        now = int(time.time()) // 30
        step = now if self.last_step is None or self.last_step < now else self.last_step + 1
        while step > int(time.time()) // 30 + 1:
            time.sleep(0.5)
        self.last_step = step
        return self.totp.at(step * 30)


def shot(d, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    d.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def fill(d, **fields):
    for name, value in fields.items():
        box = d.find_element(By.NAME, name)
        box.clear()
        box.send_keys(value)


def replaced(element):
    def check(_driver):
        try:
            element.is_enabled()
            return False
        except WebDriverException:
            return True
    return check


def submit(d, text):
    """Clicks a button by its text and waits for the next page."""
    page = d.find_element(By.TAG_NAME, "html")
    d.find_element(By.XPATH, f"//button[normalize-space()='{text}'] | //button[.//span[normalize-space()='{text}']]").click()
    WebDriverWait(d, 10).until(replaced(page))


def arrive(d, prefix):
    """Waits until the browser is at an address starting with `prefix` (the continue page refreshes there)."""
    try:
        WebDriverWait(d, 10).until(lambda driver: driver.current_url.startswith(prefix))
    except Exception:
        shot(d, "unexpected")
        raise AssertionError(f"expected {prefix}, at {d.current_url}: {d.find_element(By.TAG_NAME, 'body').text[:400]}")


def sign_up_with_app(d, world, email):
    """A new account with the authenticator app on: returns its phone."""
    d.delete_all_cookies()
    d.get(world["auth"] + "/signup")
    fill(d, email=email, password=PASSWORD)
    submit(d, "Create account")
    d.get(world["auth"] + "/profile/two-factor/enable")
    fill(d, password=PASSWORD)
    submit(d, "Confirm")
    submit(d, "App")
    phone = Phone(d.find_element(By.ID, "manual-key").text.replace(" ", ""))
    fill(d, code=phone.code())
    submit(d, "Activate 2-step verification")
    assert "Enabled" in d.find_element(By.ID, "status").text
    return phone


def sign_in_on_page(d, email, phone=None):
    """On TwoStep's sign-in page (wherever it came from): password, then the app code if asked."""
    arrive(d, d.current_url.split("/signin")[0] + "/signin")
    fill(d, email=email, password=PASSWORD)
    submit(d, "Sign in")
    if phone is not None:
        assert "/signin/code" in d.current_url, d.current_url
        fill(d, code=phone.code())
        submit(d, "Verify")


# The accounts the tests share, made once.
@pytest.fixture(scope="module")
def alice(world, driver):
    return sign_up_with_app(driver, world, "alice@example.test")


def test_the_readme_relying_party_is_the_file_ci_runs():
    assert readme_block("Use TwoStep as an OpenID Connect provider", "python") == (HERE / "relying_party.py").read_text()


def test_nginx_forward_auth_after_password_and_app_code(world, driver, alice):
    d = driver
    d.delete_all_cookies()
    d.get(world["app"] + "/reports?id=7")
    # nginx's auth_request got a 401 and sent the browser to TwoStep with the address as rd.
    arrive(d, world["auth"] + "/signin?rd=")
    shot(d, "01-signin-for-app")
    sign_in_on_page(d, "alice@example.test", alice)
    arrive(d, world["app"] + "/reports?id=7")
    shot(d, "02-app-signed-in")
    assert d.find_element(By.ID, "user").text == "1"
    assert d.find_element(By.ID, "email").text == "alice@example.test"
    assert "otp" in d.find_element(By.ID, "methods").text.split(",")
    # A Remote-User the browser sends itself never reaches the application.
    session = {c["name"]: c["value"] for c in d.get_cookies()}
    forged = requests.get(world["app"] + "/", headers={"Remote-User": "admin"}, allow_redirects=False)
    assert forged.status_code == 302 and "admin" not in forged.text
    with_session = requests.get(world["app"] + "/", headers={"Remote-User": "admin"}, cookies=session, allow_redirects=False)
    assert with_session.status_code == 200 and "<p id='user'>1</p>" in with_session.text
    # Signing out of TwoStep closes the application too.
    d.get(world["auth"] + "/profile")
    submit(d, "Sign out")
    d.get(world["app"] + "/")
    arrive(d, world["auth"] + "/signin?rd=")


def test_a_session_that_only_passed_the_password_is_refused(world, driver, alice):
    d = driver
    d.delete_all_cookies()
    d.get(world["auth"] + "/signin")
    sign_in_on_page(d, "alice@example.test")
    assert "/signin/code" in d.current_url
    d.get(world["app"] + "/")
    arrive(d, world["auth"] + "/signin?rd=")
    assert "Protected application" not in d.page_source


def test_an_account_without_a_second_factor_is_sent_to_set_one_up(world, driver):
    d = driver
    d.delete_all_cookies()
    d.get(world["auth"] + "/signup")
    fill(d, email="bob@example.test", password=PASSWORD)
    submit(d, "Create account")
    d.get(world["app"] + "/")
    arrive(d, world["auth"] + "/profile/")
    shot(d, "03-password-only-to-enrolment")
    assert "Protected application" not in d.page_source
    session = {c["name"]: c["value"] for c in d.get_cookies()}
    assert requests.get(world["app"] + "/", cookies=session, allow_redirects=False).status_code == 302


def test_a_foreign_return_address_is_refused(world, driver):
    d = driver
    for rd in ["https://evil.example/", "//evil.example/", "https://evil.example@app.example.test/", "javascript:alert(1)"]:
        d.get(world["auth"] + "/signin?rd=" + urllib.parse.quote(rd, safe=""))
        assert d.find_element(By.TAG_NAME, "h1").text == "This sign-in link is not allowed", rd
    shot(d, "04-foreign-rd")


def test_openid_connect_relying_party_signs_in_with_two_factors(world, driver, alice):
    d = driver
    d.delete_all_cookies()
    d.get(world["rp"] + "/")
    d.find_element(By.ID, "login").click()
    arrive(d, world["auth"] + "/signin?rd=")
    shot(d, "05-oidc-signin")
    sign_in_on_page(d, "alice@example.test", alice)
    arrive(d, world["rp"] + "/")
    shot(d, "06-oidc-signed-in")
    who = d.find_element(By.ID, "who").text
    # Authlib accepted the ID token (signature, iss, aud, exp, nonce) and PKCE; amr says how.
    assert who.startswith("alice@example.test (sub 1)"), who
    assert "otp" in who.split("amr=")[1].split(), who


def authorization_code(d, world, verifier, redirect_uri=None):
    """A code for the probe client, from the browser's signed-in session (read off the address bar)."""
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = urllib.parse.urlencode(dict(response_type="code", client_id=world["probe_id"], scope="openid",
                                        redirect_uri=redirect_uri or world["rp"] + "/probe", state="s",
                                        code_challenge=challenge, code_challenge_method="S256"))
    d.get(world["auth"] + "/oauth2/authorize?" + query)
    arrive(d, world["rp"] + "/probe?")
    return urllib.parse.parse_qs(urllib.parse.urlparse(d.current_url).query)["code"][0]


def redeem(world, code, verifier):
    return requests.post(world["auth"] + "/oauth2/token", data=dict(
        grant_type="authorization_code", code=code, redirect_uri=world["rp"] + "/probe", client_id=world["probe_id"],
        code_verifier=verifier))


def test_openid_connect_refusals(world, driver, alice):
    d = driver  # signed in with two factors by the test before
    started = time.monotonic()
    late_verifier = secrets.token_urlsafe(40)
    late = authorization_code(d, world, late_verifier)

    # Wrong redirect URI: an error page, never a redirect.
    query = urllib.parse.urlencode(dict(response_type="code", client_id=world["probe_id"], scope="openid",
                                        redirect_uri=world["rp"] + "/probe/", code_challenge="x" * 43,
                                        code_challenge_method="S256"))
    wrong = requests.get(world["auth"] + "/oauth2/authorize?" + query, allow_redirects=False)
    assert wrong.status_code == 400 and "Location" not in wrong.headers

    # A code used twice: refused, and the access token the first use got is revoked.
    verifier = secrets.token_urlsafe(40)
    code = authorization_code(d, world, verifier)
    first = redeem(world, code, verifier)
    assert first.status_code == 200, first.text
    access = first.json()["access_token"]
    assert requests.get(world["auth"] + "/oauth2/userinfo", headers={"Authorization": "Bearer " + access}).status_code == 200
    again = redeem(world, code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert requests.get(world["auth"] + "/oauth2/userinfo", headers={"Authorization": "Bearer " + access}).status_code == 401

    # The wrong PKCE verifier.
    code = authorization_code(d, world, verifier)
    wrong_verifier = redeem(world, code, secrets.token_urlsafe(40))
    assert wrong_verifier.status_code == 400 and wrong_verifier.json()["error"] == "invalid_grant"

    # A code older than 60 seconds.
    time.sleep(max(0.0, 61 - (time.monotonic() - started)))
    expired = redeem(world, late, late_verifier)
    assert expired.status_code == 400 and expired.json()["error"] == "invalid_grant", expired.text
