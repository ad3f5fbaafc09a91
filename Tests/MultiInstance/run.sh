#!/usr/bin/env bash
# Several instances, one database: starts a throw-away PostgreSQL cluster, two `twostep serve`
# on it (same master key), and nginx balancing between them, then runs suite.py, which proves the
# cross-instance rules through nginx and against each instance directly, stops and restarts
# PostgreSQL under the servers (503, then recovery), and kills one instance under load.
# Usage: Tests/MultiInstance/run.sh [BINARY]   (default .build/debug/twostep; needs postgresql and nginx)
set -euo pipefail
cd "$(dirname "$0")/../.."
binary="$(realpath "${1:-.build/debug/twostep}")"
python="${TWOSTEP_PYTHON:-python3}"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

work="$(mktemp -d /tmp/twostep-multi.XXXXXX)"
chmod 755 "$work"
pg_dir="$work/postgres"
pg_port=$(free_port)
port_a=$(free_port)
port_b=$(free_port)
port=$(free_port)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    .ci/postgres stop "$pg_dir" 2>/dev/null || true
    if [[ "${KEEP:-}" != 1 ]]; then rm -rf "$work"; fi
}
trap cleanup EXIT

admin_url=$(.ci/postgres start "$pg_dir" "$pg_port")
psql -q "${admin_url%%\?*}" -c "CREATE DATABASE twostep" >/dev/null
database="${admin_url/\/postgres\?/\/twostep?}"
export TWOSTEP_DATABASE="$database"

# One master key for both (the first migrate makes it); each instance its own data directory.
mkdir -p "$work/a" "$work/b"
"$binary" migrate --data-dir "$work/a" >/dev/null
cp -p "$work/a/master.key" "$work/b/master.key"
key="$("$binary" apikey create --name multi --data-dir "$work/a")"
# The suite reads an account's events (the count of compared codes) with a key of its own.
audit_key="$("$binary" apikey create --name multi-audit --scope audit --reach all --data-dir "$work/a")"

start_instance() { # NAME PORT
    TWOSTEP_SMS_GATEWAY=outbox "$binary" serve --data-dir "$work/$1" --host 127.0.0.1 --port "$2" --insecure-cookies true \
        --trusted-proxy 127.0.0.1 --log-level warning >>"$work/$1.log" 2>&1 &
    echo $!
}
pid_a=$(start_instance a "$port_a")
pid_b=$(start_instance b "$port_b")
pids+=("$pid_a" "$pid_b")

sed -e "s|@DIR@|$work|g" -e "s|@PORT_A@|$port_a|g" -e "s|@PORT_B@|$port_b|g" -e "s|@PORT@|$port|g" \
    Tests/MultiInstance/nginx.conf >"$work/nginx.conf"
nginx -p "$work" -c "$work/nginx.conf" &
pids+=($!)

for url in "http://127.0.0.1:$port_a" "http://127.0.0.1:$port_b" "http://127.0.0.1:$port"; do
    for _ in $(seq 100); do curl -fs "$url/health" >/dev/null 2>&1 && break; sleep 0.1; done
    curl -fs "$url/health" >/dev/null || { echo "$url did not come up" >&2; cat "$work"/*.log >&2; exit 1; }
done

export MULTI_KEY="$key" MULTI_AUDIT_KEY="$audit_key" MULTI_NGINX="http://127.0.0.1:$port" MULTI_A="http://127.0.0.1:$port_a" MULTI_B="http://127.0.0.1:$port_b"
export MULTI_PID_A="$pid_a" MULTI_PG_DIR="$pg_dir" MULTI_PG_PORT="$pg_port" MULTI_WORK="$work"
status=0
"$python" Tests/MultiInstance/suite.py || status=$?
if ((status != 0)); then
    for log in "$work"/a.log "$work"/b.log "$work"/nginx-error.log; do echo "--- $log" >&2; tail -40 "$log" >&2; done
fi
exit $status
