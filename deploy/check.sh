#!/usr/bin/env bash
# Checks the deploy kit without installing it: the systemd unit with `systemd-analyze verify` (and
# its hardening with `systemd-analyze security`: exposure at most 2.0, which --threshold counts as 20), the nginx example with
# `nginx -t` (a self-signed certificate in place of the real one), the container recipe with hadolint.
# Usage: deploy/check.sh BINARY   (the twostep binary the unit starts; .ci/run passes the debug build)
set -euo pipefail
cd "$(dirname "$0")/.."
binary="$(realpath "${1:-.build/debug/twostep}")"
hadolint="${HADOLINT:-.venv/bin/hadolint}"
work="$(mktemp -d /tmp/twostep-deploy.XXXXXX)"
trap 'rm -rf "$work"' EXIT

# A root with the distribution's units, the binary where the unit expects it, and the unit.
root="$work/root"
mkdir -p "$root/usr/local/bin" "$root/etc/systemd/system" "$root/usr/lib/systemd"
cp -r /lib/systemd/system "$root/usr/lib/systemd/system"
cp "$binary" "$root/usr/local/bin/twostep"
cp deploy/twostep.service "$root/etc/systemd/system/twostep.service"
# verify exits 0 on unknown or misspelt keys (it only warns): any output is a failure.
output=$(systemd-analyze verify --man=no --root="$root" twostep.service 2>&1) || { echo "$output" >&2; exit 1; }
[[ -z "$output" ]] || { echo "systemd-analyze verify: $output" >&2; exit 1; }
systemd-analyze security --offline=yes --root="$root" --threshold=20 twostep.service >"$work/security.txt" 2>&1 ||
    { cat "$work/security.txt" >&2; echo "the unit's exposure is above 2.0" >&2; exit 1; }
echo "systemd unit: verified; $(grep -o 'Overall exposure level.*' "$work/security.txt")"

# nginx: the example inside a minimal main configuration, with a throw-away certificate.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=auth.example.com \
    -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
sed -e "s|/etc/letsencrypt/live/auth.example.com/fullchain.pem|$work/cert.pem|" \
    -e "s|/etc/letsencrypt/live/auth.example.com/privkey.pem|$work/key.pem|" deploy/nginx/twostep.conf >"$work/site.conf"
cat >"$work/nginx.conf" <<CONF
pid $work/nginx.pid;
error_log $work/error.log;
events {}
http {
    access_log off;
    client_body_temp_path $work/body;
    proxy_temp_path $work/proxy;
    fastcgi_temp_path $work/fastcgi;
    uwsgi_temp_path $work/uwsgi;
    scgi_temp_path $work/scgi;
    include $work/site.conf;
}
CONF
nginx -t -q -p "$work" -c "$work/nginx.conf"
echo "nginx example: nginx -t passed"

"$hadolint" deploy/Containerfile
echo "container recipe: hadolint passed"
