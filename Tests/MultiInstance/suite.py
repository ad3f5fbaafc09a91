"""The cross-instance rules, through nginx and against each instance directly (Tests/MultiInstance/run.sh
sets the environment). Standard library only. Prints one line per check and 'N passed, N failed'."""

import base64
import concurrent.futures
import hashlib
import hmac
import json
import os
import secrets
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

KEY = os.environ["MULTI_KEY"]
AUDIT_KEY = os.environ["MULTI_AUDIT_KEY"]
NGINX, A, B = os.environ["MULTI_NGINX"], os.environ["MULTI_A"], os.environ["MULTI_B"]
PID_A = int(os.environ["MULTI_PID_A"])
PG_DIR, PG_PORT = os.environ["MULTI_PG_DIR"], os.environ["MULTI_PG_PORT"]
PASSWORD = "correct horse battery"


def call(base, method, path, body=None, token=KEY, headers=None, timeout=15):
    """(status, parsed JSON or text, headers); status 0 when the connection failed."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    if token:
        request.add_header("Authorization", "Bearer " + token)
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw, answer_headers = response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        status, raw, answer_headers = error.code, error.read(), error.headers
    except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
        return 0, str(error), {}
    text = raw.decode("utf-8", "replace")
    try:
        return status, json.loads(text), answer_headers
    except ValueError:
        return status, text, answer_headers


def totp(secret, at=None, digits=6, period=30):
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = int((time.time() if at is None else at) // period)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


def new_secret():
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def make_user(base=NGINX, secret=None):
    email = f"u{secrets.token_hex(6)}@example.com"
    secret = secret or new_secret()
    status, body, _ = call(base, "POST", "/api/v1/users", {"email": email, "totp": {"secret": secret}})
    assert status == 201, f"create user: {status} {body}"
    return email, secret


def validate(base, email, code):
    return call(base, "POST", "/api/v1/validate", {"user": email, "code": code})


def wait_for_fresh_step(margin=6):
    """Keeps a check from straddling a step boundary (codes of one step are what is raced)."""
    left = 30 - time.time() % 30
    if left < margin:
        time.sleep(left + 0.2)


results = {"passed": 0, "failed": 0}


def check(name):
    def run(function):
        started = time.time()
        try:
            function()
            results["passed"] += 1
            print(f"✔ {name} ({time.time() - started:.1f} s)", flush=True)
        except Exception as error:  # noqa: BLE001 - every failure is reported and counted
            results["failed"] += 1
            print(f"✘ {name}: {error!r}", flush=True)
        return function

    return run


def race(requests):
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(lambda request: request(), requests))


def last_byte_race(requests):
    """The tightest race HTTP allows (the "last-byte sync" of James Kettle's single-packet attack):
    every request is sent but its last byte, over a connection of its own, and only when all are
    in do the last bytes go out together, so the servers begin them all within a fraction of a
    millisecond. requests: (base URL, path, JSON body) tuples, POSTed with the API key. Returns (status, JSON)."""
    sockets = []
    for base, path, body in requests:
        host, port = base.removeprefix("http://").split(":")
        data = json.dumps(body).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {KEY}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\nConnection: close\r\n\r\n"
        )
        connection = socket.create_connection((host, int(port)), timeout=30)
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        message = head.encode() + data
        connection.sendall(message[:-1])
        sockets.append((connection, message[-1:]))
    time.sleep(0.5)  # time to read what was sent (on a starved host a late read only loosens the race)
    for connection, last in sockets:
        connection.send(last)
    answers = []
    for connection, _ in sockets:
        raw = b""
        while chunk := connection.recv(65536):
            raw += chunk
        connection.close()
        head, _, body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {line.split(":", 1)[0].strip().lower(): line.split(":", 1)[1].strip() for line in lines[1:] if ":" in line}
        if headers.get("transfer-encoding") == "chunked":
            decoded = b""
            while True:
                size, _, rest = body.partition(b"\r\n")
                if int(size, 16) == 0:
                    break
                decoded, body = decoded + rest[: int(size, 16)], rest[int(size, 16) + 2 :]
            body = decoded
        answers.append((int(lines[0].split()[1]), json.loads(body) if body else None))
    return answers


@check("a code accepted on instance A is refused on instance B (RFC 6238 §5.2 across instances)")
def replay_across_instances():
    wait_for_fresh_step()
    email, secret = make_user()
    code = totp(secret)
    status, body, _ = validate(A, email, code)
    assert status == 200 and body["valid"] is True, f"A: {status} {body}"
    status, body, _ = validate(B, email, code)
    assert status == 200 and body["valid"] is False, f"B accepted a used code: {status} {body}"
    status, body, _ = validate(NGINX, email, code)
    assert status == 200 and body["valid"] is False, f"nginx: {status} {body}"


@check("20 concurrent uses of one code over both instances: exactly one succeeds")
def concurrent_code():
    wait_for_fresh_step()
    email, secret = make_user()
    code = totp(secret)
    answers = race([lambda base=(A if i % 2 else B): validate(base, email, code) for i in range(20)])
    assert all(status in (200, 429) for status, _, _ in answers), f"statuses: {[a[0] for a in answers]}"
    accepted = [body for status, body, _ in answers if status == 200 and body.get("valid") is True]
    assert len(accepted) == 1, f"{len(accepted)} accepted"


@check("20 concurrent uses of one recovery code over both instances: exactly one succeeds")
def concurrent_recovery_code():
    email, _ = make_user()
    status, body, _ = call(A, "POST", f"/api/v1/users/{email}/recovery-codes")
    assert status in (200, 201), f"recovery codes: {status} {body}"
    code = body["codes"][0]
    answers = race([lambda base=(A if i % 2 else B): validate(base, email, code) for i in range(20)])
    assert all(status in (200, 429) for status, _, _ in answers), f"statuses: {[a[0] for a in answers]}"
    accepted = [body for status, body, _ in answers if status == 200 and body.get("valid") is True]
    assert len(accepted) == 1 and accepted[0]["method"] == "recovery_code", f"accepted: {accepted}"
    status, body, _ = call(B, "GET", f"/api/v1/users/{email}")
    assert body["two_factor"]["recovery_codes"]["remaining"] == 9, f"state on B: {body}"


@check("wrong codes on A and B add up to one lockout; the wait set on A is honoured by B")
def lockout_adds_up():
    email, secret = make_user()
    wrong = str((int(totp(secret)) + 500_000) % 1_000_000).zfill(6)
    refused_after = None
    for attempt in range(12):
        status, body, headers = validate(A if attempt % 2 == 0 else B, email, wrong)
        if status == 429:
            refused_after = attempt
            break
        assert status == 200 and body["valid"] is False, f"attempt {attempt}: {status} {body}"
    # One instance alone would let 5 through before the wait; two that did not share would let 10.
    assert refused_after is not None and refused_after <= 5, f"first wait after {refused_after} wrong codes"
    for base in (A, B, NGINX):
        status, body, headers = validate(base, email, totp(secret))
        assert status == 429 and headers.get("Retry-After"), f"{base}: {status} {body}"


@check("40 copies of one code, their last bytes released together on both instances: exactly one succeeds")
def last_byte_same_code():
    wait_for_fresh_step(margin=10)
    email, secret = make_user()
    code = totp(secret)
    answers = last_byte_race([(A if i % 2 else B, "/api/v1/validate", {"user": email, "code": code}) for i in range(40)])
    assert all(status in (200, 429) for status, _ in answers), f"statuses: {[a[0] for a in answers]}"
    accepted = [body for status, body in answers if status == 200 and body["valid"] is True]
    assert len(accepted) == 1, f"{len(accepted)} of 40 accepted"


@check("40 wrong codes, their last bytes released together on both instances: at most 5 compared")
def last_byte_wrong_codes():
    email, secret = make_user()
    wrong = str((int(totp(secret)) + 500_000) % 1_000_000).zfill(6)
    answers = last_byte_race([(A if i % 2 else B, "/api/v1/validate", {"user": email, "code": wrong}) for i in range(40)])
    assert all(status in (200, 429) for status, _ in answers), f"statuses: {[a[0] for a in answers]}"
    assert not any(status == 200 and body["valid"] is True for status, body in answers), "a wrong code was accepted"
    # Each compared wrong code records one failure: the count of comparisons, whatever the replies said.
    status, body, _ = call(NGINX, "GET", f"/api/v1/users/{email}/events", token=AUDIT_KEY)
    assert status == 200, f"events: {status} {body}"
    compared = sum(1 for event in body["events"] if event["kind"] == "second_factor_failed")
    assert 1 <= compared <= 5, f"{compared} of 40 wrong codes were compared (the policy allows 5)"
    assert sum(1 for status, _ in answers if status == 429) >= 35, f"statuses: {[a[0] for a in answers]}"


@check("a session and a trusted device made on A work on B; signing out on A ends the session on B")
def sessions_shared():
    wait_for_fresh_step(margin=10)
    email = f"s{secrets.token_hex(6)}@example.com"
    status, body, _ = call(A, "POST", "/api/v1/account", {"email": email, "password": PASSWORD}, token=None)
    assert status in (200, 201), f"sign-up on A: {status} {body}"
    token = body["token"]
    # Adding a method needs a fresh password: given on B, honoured on B for A's session.
    status, body, _ = call(B, "POST", "/api/v1/account/reauthenticate", {"password": PASSWORD}, token=token)
    assert status in (200, 204), f"re-authentication on B: {status} {body}"
    token = body.get("token", token)  # re-authentication rotates the token
    status, body, _ = call(B, "POST", "/api/v1/account/two-factor/app", token=token)
    assert status in (200, 201), f"app on B with A's session: {status} {body}"
    secret = body["secret"]
    status, body, _ = call(A, "POST", "/api/v1/account/two-factor/app/confirm", {"code": totp(secret)}, token=token)
    assert status == 200, f"confirm on A: {status} {body}"
    # Sign in on A (the half-way challenge), finish on B with the next step's code.
    status, body, _ = call(A, "POST", "/api/v1/session", {"email": email, "password": PASSWORD}, token=None)
    assert status == 200 and body["status"] == "second_factor_required", f"password on A: {status} {body}"
    answer = {"challenge": body["challenge"], "code": totp(secret, time.time() + 30), "trust_device": True}
    status, body, _ = call(B, "POST", "/api/v1/session/second-factor", answer, token=None)
    assert status == 200 and body["status"] == "authenticated", f"code on B: {status} {body}"
    signed_in, device = body["token"], body["device_token"]
    status, body, _ = call(A, "GET", "/api/v1/account", token=signed_in)
    assert status == 200, f"B's session on A: {status} {body}"
    status, body, _ = call(A, "POST", "/api/v1/session", {"email": email, "password": PASSWORD, "device_token": device}, token=None)
    assert status == 200 and body["status"] == "authenticated", f"B's trusted device on A: {status} {body}"
    status, body, _ = call(A, "DELETE", "/api/v1/session", token=signed_in)
    assert status in (200, 204), f"sign-out on A: {status} {body}"
    status, body, _ = call(B, "GET", "/api/v1/account", token=signed_in)
    assert status == 401, f"ended session still works on B: {status} {body}"


@check("SMS limits count across instances (one a minute: A sends, B refuses)")
def sms_limits_shared():
    email = f"p{secrets.token_hex(6)}@example.com"
    status, body, _ = call(A, "POST", "/api/v1/account", {"email": email, "password": PASSWORD}, token=None)
    token = body["token"]
    status, body, _ = call(B, "POST", "/api/v1/account/reauthenticate", {"password": PASSWORD}, token=token)
    assert status in (200, 204), f"re-authentication on B: {status} {body}"
    token = body.get("token", token)  # re-authentication rotates the token
    phone = "+3161234" + str(secrets.randbelow(9000) + 1000)
    status, body, _ = call(A, "POST", "/api/v1/account/two-factor/sms", {"phone": phone}, token=token)
    assert status in (200, 201, 202), f"first SMS on A: {status} {body}"
    status, body, headers = call(B, "POST", "/api/v1/account/two-factor/sms", {"phone": phone}, token=token)
    assert status == 429 and body["error"]["code"] == "sms_limited" and headers.get("Retry-After"), f"second SMS on B: {status} {body}"


def postgres(action):
    command = [".ci/postgres", action, PG_DIR] + ([PG_PORT] if action == "start" else [])
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


@check("PostgreSQL stopped under the servers: 503 (JSON on the API, a page on the web), not ready; back by itself when it returns")
def database_outage():
    email, secret = make_user()
    for base in (A, B):
        status, body, _ = call(base, "GET", "/health/ready", token=None)
        assert status == 200 and body == {"status": "ready"}, f"ready on {base} before: {status} {body}"
    postgres("stop")
    try:
        for base in (A, B):
            status, body, _ = call(base, "GET", "/health/ready", token=None)
            assert status == 503 and body == {"status": "unavailable", "reason": "database_unavailable"}, f"ready on {base}: {status} {body}"
            status, body, _ = call(base, "GET", "/health/live", token=None)
            assert status == 200, f"live on {base} while the database is away: {status} {body}"
            status, body, headers = validate(base, email, "000000")
            assert status == 503 and body["error"]["code"] == "database_unavailable", f"API on {base}: {status} {body}"
            assert headers.get("Retry-After"), "no Retry-After"
        cookies = "twostep-session=x" + "y" * 40 + "; __Host-twostep-session=x" + "y" * 40
        status, body, headers = call(A, "GET", "/profile", token=None, headers={"Cookie": cookies, "Accept": "text/html"})
        assert status == 503 and "Temporarily unavailable" in body, f"web: {status} {str(body)[:300]}"
        assert "text/html" in headers.get("Content-Type", ""), headers.get("Content-Type")
    finally:
        postgres("start")
    deadline = time.time() + 30
    for base in (A, B):
        while True:
            status, body, _ = call(base, "GET", f"/api/v1/users/{email}")
            ready, _, _ = call(base, "GET", "/health/ready", token=None)
            if status == 200 and ready == 200:
                break
            assert time.time() < deadline, f"{base} still answers {status} {body} 30 s after PostgreSQL returned"
            time.sleep(0.25)


@check("SIGTERM, then SIGKILL, one instance under load through nginx: nothing fails after, no write lost, no code twice")
def kill_one_under_load():
    users = [make_user() for _ in range(12)]
    lock = threading.Lock()
    acknowledged, accepted, failures = [], [], []
    stop_at = time.time() + 9
    dead_at = [None]

    def worker(index):
        while time.time() < stop_at:
            started = time.time()
            # A write to acknowledge...
            email = f"load{index}-{secrets.token_hex(5)}@example.com"
            status, body, _ = call(NGINX, "POST", "/api/v1/users", {"email": email, "totp": {"secret": new_secret()}}, timeout=10)
            with lock:
                if status == 201:
                    acknowledged.append(email)
                elif status == 0 or status >= 500:
                    failures.append((started, "create", status, str(body)[:120]))
            # ...and codes of shared users, which every worker races for.
            email, secret = users[(index + int(started * 10)) % len(users)]
            code = totp(secret)
            status, body, _ = validate(NGINX, email, code)
            with lock:
                if status == 200 and body.get("valid"):
                    accepted.append((email, code, int(time.time() // 30)))
                elif status == 0 or status >= 500:
                    failures.append((started, "validate", status, str(body)[:120]))

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(worker, index) for index in range(8)]
        time.sleep(3)
        os.kill(PID_A, signal.SIGTERM)
        # The drain: A says it is not ready (so a load balancer would stop sending) while it still serves.
        time.sleep(0.2)
        status, body, _ = call(A, "GET", "/health/ready", token=None, timeout=0.7)
        drained = (status, body)
        time.sleep(0.1)
        try:
            os.kill(PID_A, signal.SIGKILL)
        except ProcessLookupError:
            pass
        dead_at[0] = time.time()
        for future in futures:
            future.result()

    assert drained[0] == 503 and drained[1] == {"status": "unavailable", "reason": "shutting_down"}, f"A after SIGTERM: {drained}"
    late = [failure for failure in failures if failure[0] > dead_at[0] + 0.5]
    assert not late, f"{len(late)} failures after instance A was gone: {late[:5]}"
    codes = [(email, code) for email, code, _ in accepted]
    assert len(codes) == len(set(codes)), "a code was accepted twice"
    assert len(acknowledged) > 20, f"only {len(acknowledged)} writes acknowledged: the load did not run"
    missing = [email for email in acknowledged if call(B, "GET", f"/api/v1/users/{email}")[0] != 200]
    assert not missing, f"{len(missing)} acknowledged users are gone: {missing[:5]}"
    print(f"  {len(acknowledged)} users created, {len(accepted)} codes accepted, {len(failures)} requests in flight failed", flush=True)


print(f"{results['passed']} passed, {results['failed']} failed")
sys.exit(1 if results["failed"] else 0)
