#!/usr/bin/env bash
# Fuzzes the JSON API of a live `twostep serve` with schemathesis against /api/v1/openapi.json:
# no 5xx, every status, header, content type and body as documented, auth never ignored.
# Two runs: the service API with an API key, the account holders' API with a session token.
# Usage: Tests/APIFuzz/run.sh [BINARY]   (default .build/debug/twostep; needs .venv with schemathesis)
# TWOSTEP_FUZZ_EXAMPLES (default 25 per operation) and TWOSTEP_FUZZ_SEED (fixed, so CI is repeatable).
set -euo pipefail
cd "$(dirname "$0")/../.."
binary="${1:-.build/debug/twostep}"
schemathesis="${SCHEMATHESIS:-.venv/bin/schemathesis}"
examples="${TWOSTEP_FUZZ_EXAMPLES:-25}"
seed="${TWOSTEP_FUZZ_SEED:-20261129}"

data="$(mktemp -d)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
server=""
cleanup() { [[ -n "$server" ]] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$data"; }
trap cleanup EXIT

# Every scope, so every service route is fuzzed; reach "own" (the default) covers the user it provisions below.
key="$("$binary" apikey create --name fuzz --scope validate,users,enrol,recovery-codes,audit --data-dir "$data")"
"$binary" serve --data-dir "$data" --host 127.0.0.1 --port "$port" --log-level error >"$data/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do curl -fs "$base/health" >/dev/null 2>&1 && break; sleep 0.1; done

# Something to find: a user with an app key (for /users/{user}), and an account holder's session.
curl -fs -X POST "$base/api/v1/users" -H "Authorization: Bearer $key" \
    -d '{"email": "fuzz@example.com", "totp": {"secret": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"}}' >/dev/null
session="$(curl -fs -X POST "$base/api/v1/account" -d '{"email": "holder@example.com", "password": "correct horse battery"}' \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')"

# positive_data_acceptance is left out: a schema cannot say which e-mail addresses or phone numbers
# exist or parse, so a schema-valid request may rightly get 404, 409 or 422.
fuzz() {
    "$schemathesis" run "$base/api/v1/openapi.json" --checks all --exclude-checks positive_data_acceptance \
        --max-examples "$examples" --seed "$seed" --workers 1 --request-timeout 10 --no-color "$@"
}
status=0
echo "-- service API (API key)"
fuzz -H "Authorization: Bearer $key" --include-tag service --include-tag meta || status=$?
echo "-- account holders' API (session token)"
# Signing out (here or everywhere) would end the token half-way through; both are tested in APITests and SessionEndTests.
fuzz -H "Authorization: Bearer $session" --exclude-tag service --exclude-name "DELETE /api/v1/session" \
    --exclude-name "DELETE /api/v1/sessions" || status=$?

if grep -q "API request failed" "$data/server.log"; then
    echo "the server logged an unexpected error:" >&2
    cat "$data/server.log" >&2
    status=1
fi
exit $status
