#!/usr/bin/env bash
# The validate benchmark: a release `twostep serve` on SQLite (or PostgreSQL) with N imported users,
# driven by Benchmarks/validate/loadgen.c over 64 keep-alive connections on this machine.
#
#   Benchmarks/validate/run.sh                 N = 1,000 and 1,000,000, 20-second runs
#   Benchmarks/validate/run.sh --users 50000   one N
#   Benchmarks/validate/run.sh --smoke         CI: the debug build, 200 users, 2-second runs
#   Benchmarks/validate/run.sh --repeat 5      each N's runs on 5 fresh servers, then their medians
#   Benchmarks/validate/run.sh --database postgres [--pool-size 8]
#                                              the same on a throw-away PostgreSQL cluster (.ci/postgres)
#                                              on this machine, one database per N (and a copy of it
#                                              for each server of --repeat)
#
# For each N: a no-op route (GET /health) as the framework's ceiling, valid codes, wrong codes.
# Closed-loop runs (each connection sends when answered) measure how many checks the server answers;
# their mean latency is their connections over their rate (Little's law; "mean_ms"), mostly time
# queued behind the other 63. One open-loop run of valid codes, sent whatever the answers at half
# the warm run's rate, or half the rest's if that is lower, measures how long a check takes at that
# load. Prints checks/s, each closed-loop run of codes as a share of
# the no-op route sampled for 2 s just before it ("of_noop"), p50/p99 latency, the SQL statements
# and server CPU time per request (from the server's own /metrics and /proc), the load generator's
# own CPU time per request ("gen_us") and both programs' CPU at the measured rate in cores
# ("cores"; what it leaves of the machine's cores went to other processes, interrupts, the
# hypervisor or idle), status counts and the server's peak RSS; exits 1 if any valid code was
# refused, any wrong one accepted, or anything answered 5xx. Results: Benchmarks/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
users_list=(1000 1000000)
seconds=20
connections=64
configuration=release
valid_per_user=3
first_count=3000
database=sqlite
pool_size=""
repeat=1
while (($#)); do
    case "$1" in
        --database) database="$2"; shift ;;
        --pool-size) pool_size="$2"; shift ;;
        --smoke) users_list=(200); seconds=2; configuration=debug; valid_per_user=1; first_count=100 ;;
        --users) users_list=("$2"); shift ;;
        --seconds) seconds="$2"; shift ;;
        --repeat) repeat="$2"; shift ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
[[ "$database" == sqlite || "$database" == postgres ]] || { echo "--database must be sqlite or postgres" >&2; exit 2; }
[[ "$repeat" =~ ^[1-9][0-9]*$ ]] || { echo "--repeat must be a positive number" >&2; exit 2; }
((seconds <= 25)) || { echo "--seconds must be at most 25: valid codes must not outlive their time step" >&2; exit 2; }

work="$(mktemp -d)"
server=""
sampler=""
pg_dir=""
cleanup() {
    [[ -n "$sampler" ]] && kill "$sampler" 2>/dev/null
    [[ -n "$server" ]] && kill "$server" 2>/dev/null
    wait 2>/dev/null || true
    [[ -n "$pg_dir" ]] && { .ci/postgres stop "$pg_dir" 2>/dev/null || true; rm -rf "$pg_dir" "$pg_dir".*; }
    rm -rf "$work"
}
trap cleanup EXIT
[[ -n "$pool_size" ]] && export TWOSTEP_DATABASE_POOL_SIZE="$pool_size"
if [[ "$database" == postgres ]]; then
    pg_dir="$(mktemp -d /tmp/twostep-bench-postgres.XXXXXX)"
    pg_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    pg_admin="$(.ci/postgres start "$pg_dir" "$pg_port")"
fi

echo "== building ($configuration) and the load generator"
swift build -c "$configuration" --product twostep 2>&1 | tail -1
binary=".build/$configuration/twostep"
gcc -O2 -o "$work/loadgen" Benchmarks/validate/loadgen.c
python=.venv/bin/python3
if ! "$python" -c 'import pyotp' 2>/dev/null; then
    python3 -m venv .venv && .venv/bin/pip install --quiet --disable-pip-version-check pyotp
fi
echo "machine: $(nproc) cores, $(uname -m); load generator on the same machine; database: $database${pool_size:+, pool $pool_size}"

# RSS of the server, sampled every 0.2 s into $work/rss (kB).
sample_rss() { while kill -0 "$server" 2>/dev/null; do ps -o rss= -p "$server" >>"$work/rss" 2>/dev/null || true; sleep 0.2; done; }

# What the server has spent so far: its CPU time in µs (user + system, from /proc) and the SQL
# statements it has run (the count of twostep_database_query_duration_seconds on its metrics port).
cpu_us() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); printf "%d", ($12 + $13) * 1000000 / hz }' "/proc/$server/stat"; }
statements() { curl -fs "http://127.0.0.1:$metrics_port/metrics" | awk '/^twostep_database_query_duration_seconds_count/ { n += $2 } END { printf "%d", n }'; }

# The no-op route's rate over 2 s, just before a closed-loop run of codes: the machine's speed
# moves by a third within minutes here, so each run is set against a no-op sample of its own
# ("of_noop"), not against the one at the start.
noop_now() { rate_of "$("$work/loadgen" -c "$connections" -p "$port" -g /health -d 2)"; }
rate_of() { sed -E 's/.*rate=([0-9.]+).*/\1/' <<<"$1"; }
# Half a measured rate, as a whole number of requests a second: the open loop's rate.
half_of() { awk -v r="$1" 'BEGIN { printf "%d", r / 2 }'; }

# loadgen prints key=value pairs; one table row per run. A run of codes fails the benchmark unless
# every response is a 200 with the expected answer (valid codes accepted, wrong ones refused).
row() { # name, loadgen arguments…
    local name="$1"
    shift
    # An open-loop run's rate is set, not measured: it gets no share of the no-op route.
    local of_noop=-
    [[ "$name" == *codes* && "$name" != *open* ]] && of_noop=$(noop_now)
    local cpu_before statements_before out
    cpu_before=$(cpu_us)
    statements_before=$(statements)
    out="$("$work/loadgen" "$@")"
    last_out="$out"
    local -A v
    for pair in $out; do v[${pair%%=*}]=${pair#*=}; done
    local requests=$((v[requests] > 0 ? v[requests] : 1))
    local sql cpu
    sql=$(awk -v n="$(($(statements) - statements_before))" -v r="$requests" 'BEGIN { printf "%.2f", n / r }')
    cpu=$((($(cpu_us) - cpu_before) / requests))
    [[ "$of_noop" != - ]] && of_noop=$(awk -v r="${v[rate]}" -v n="$of_noop" 'BEGIN { printf "%.2f", (n > 0 ? r / n : 0) }')
    # A closed loop's mean latency is its connections over its rate (Little's law).
    local mean_ms=-
    [[ "$name" != *open* ]] && mean_ms=$(awk -v c="$connections" -v r="${v[rate]}" 'BEGIN { printf "%.1f", (r > 0 ? c * 1000 / r : 0) }')
    # The load generator shares the cores: both programs' CPU at this rate, in cores ("cores").
    local cores
    cores=$(awk -v r="${v[rate]}" -v s="$cpu" -v g="${v[own_cpu_us]}" 'BEGIN { printf "%.2f", r * (s + g) / 1000000 }')
    printf '%-26s %9s %8.1f %9s %7s %7s %7s %7s %7s %7s %7s %6s %8s %7s %6s %6s\n' "$name" "${v[requests]}" "${v[seconds]}" "${v[rate]}" \
        "$of_noop" "${v[p50_ms]}" "${v[p99_ms]}" "$mean_ms" "$sql" "$cpu" "${v[own_cpu_us]}" "$cores" "${v[marked]}" "${v[4xx]}" "${v[429]}" "${v[5xx]}"
    # For the medians of several servers (--repeat), an open run by its kind, not its rate.
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "${name%% [0-9]*/s}" "${v[rate]}" "$of_noop" "${v[p99_ms]}" "$mean_ms" "$cpu" \
        "${v[own_cpu_us]}" "$cores" >>"$work/rows"
    if [[ "$name" == *codes* ]] && [[ "${v[marked]}" != "${v[requests]}" || "${v[5xx]}" != 0 ]]; then
        echo "not every answer was right: $out" >&2
        failed=1
    fi
}
failed=0
thousands() { sed -E ':a; s/([0-9])([0-9]{3})($|,)/\1,\2\3/; ta' <<<"$1"; }

# One server: the no-op route, then valid and wrong codes. With --repeat, each server runs on a
# fresh copy of the imported data (the data directory, with its master key, and on PostgreSQL a
# database made from bench_N as a template); a single server runs on the import itself, as before.
serve_and_measure() {
    local served="$data"
    if ((repeat > 1)); then
        served="$work/serve-$users"
        cp -r "$data" "$served"
        if [[ "$database" == postgres ]]; then
            psql -X -q -v ON_ERROR_STOP=1 "${pg_admin%%\?*}" -c "CREATE DATABASE serve_$users TEMPLATE bench_$users" >/dev/null
            export TWOSTEP_DATABASE="${pg_admin/\/postgres\?/\/serve_$users?}"
        fi
    fi
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    metrics_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "$binary" serve --data-dir "$served" --port "$port" --metrics-port "$metrics_port" --log-level warning >"$work/server.log" 2>&1 &
    server=$!
    for _ in $(seq 200); do curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.1; done
    : >"$work/rss"
    sample_rss &
    sampler=$!
    printf '%-26s %9s %8s %9s %7s %7s %7s %7s %7s %7s %7s %6s %8s %7s %6s %6s\n' run requests seconds checks/s of_noop p50_ms p99_ms mean_ms \
        sql/req cpu_us gen_us cores valid 4xx 429 5xx

    # The framework's ceiling: a route that does nothing, through the same middleware.
    row "no-op GET /health" -c "$connections" -p "$port" -g /health -d "$seconds"

    # Valid codes: at most 3 per user (steps T-1, T, T+1, used during T), and no more than the server
    # gets through before T ends (12,000/s × seconds). The codes are made for a step at least 30 s
    # ahead, so making them (1M users: ~10 s) cannot make the run miss its step.
    # The first 3,000 of each run are also timed alone, so every N has a run of the same size
    # (N = 1,000 has only 3,000 valid codes per 30 s, so it has no open-loop run): the first 1,000 on
    # a server whose page caches are still cold, then the next 2,000, the row comparable across N.
    # Smoke mode's are 33 and 67.
    # (Smoke mode, in a debug build, sends one per user: a debug server stalls for up to half a
    # second, long enough for a user's next-step code to overtake the previous one, which is then
    # rightly refused as a replay and counted as a failure. Fewer than 1,000 users get one each too:
    # with a user's codes fewer lines apart than a few times the 64 in flight, some overtake.)
    per_user=$((users < 1000 ? 1 : valid_per_user))
    count=$((users * per_user < 12000 * seconds ? users * per_user : 12000 * seconds))
    step=$(($(date +%s) / 30 + 2))
    "$python" Benchmarks/validate/bench.py bodies "$users" valid "$count" "$step" >"$work/valid.txt"
    sleep "$(python3 -c "import time; print(max(0, $step * 30 + 0.2 - time.time()))")"
    # With few users either part may be short, or empty.
    cold_count=$((first_count / 3))
    head -n "$cold_count" "$work/valid.txt" >"$work/valid-first.txt"
    sed -n "$((cold_count + 1)),${first_count}p" "$work/valid.txt" >"$work/valid-next.txt"
    tail -n +$((first_count + 1)) "$work/valid.txt" >"$work/valid-rest.txt"
    rate=0
    for part in first next; do
        [[ -s "$work/valid-$part.txt" ]] || continue
        row "valid codes, $part $(thousands "$(wc -l <"$work/valid-$part.txt")")" -c "$connections" -p "$port" -k "$key" \
            -f "$work/valid-$part.txt" -m '"valid":true'
        rate=$(rate_of "$last_out")
    done
    # Open loop: half the warm run's rate (or the rest's, below), for up to 4 s, after the rest so
    # that it meets a warm server (a PostgreSQL server's first seconds after the import are slower).
    # It takes the last codes (a user's codes must come oldest first), and runs only if a second's
    # worth (or 100, whichever is fewer) is there.
    open_rate=$(half_of "$rate")
    available=$(wc -l <"$work/valid-rest.txt")
    open_count=0
    if ((open_rate > 0 && available >= (open_rate < 100 ? open_rate : 100))); then
        open_count=$((open_rate * 4 < available ? open_rate * 4 : available))
    fi
    tail -n "$open_count" "$work/valid-rest.txt" >"$work/valid-open.txt"
    # The rest, the codes before those, must be used within the step: no more than the warm run's
    # rate allows in what is left of it, less the rest's 2-s no-op sample and 7 s for the open-loop
    # run (a slower server, e.g. on PostgreSQL under load, would otherwise send codes whose step has
    # passed, and count the right refusals as wrong verdicts). PostgreSQL sustains as little as
    # two thirds of its burst, so its rest is sized at 0.6 of the burst rate, SQLite's at 0.8.
    reserve=$((2 + (open_count > 0 ? 7 : 0)))
    fill=$([[ "$database" == postgres ]] && echo 0.6 || echo 0.8)
    left=$(python3 -c "import time; print(max(0, int((($step + 1) * 30 - 2 - $reserve - time.time()) * $rate * $fill)))")
    head -n $((left < available - open_count ? left : available - open_count)) "$work/valid-rest.txt" >"$work/valid-rest-fits.txt"
    if [[ -s "$work/valid-rest-fits.txt" ]]; then
        row "valid codes, the rest" -c "$connections" -p "$port" -k "$key" -f "$work/valid-rest-fits.txt" -m '"valid":true'
        # Half of what the server sustained, if that is less than half the warm burst: a PostgreSQL
        # burst of 2,000 can run at half again the rate the server then keeps up, and an open loop
        # above a server's rate measures its queue. The codes set aside are then more than needed;
        # the first of them keep each user's oldest first.
        # (Not from a rest shorter than 1,000 codes: its rate would be mostly its start.)
        sustained=$(half_of "$(rate_of "$last_out")")
        rest_count=$(wc -l <"$work/valid-rest-fits.txt")
        if ((open_count > 0 && rest_count >= 1000 && sustained > 0 && sustained < open_rate)); then
            open_rate=$sustained
            open_count=$((open_rate * 4 < open_count ? open_rate * 4 : open_count))
            head -n "$open_count" "$work/valid-open.txt" >"$work/valid-open-fits.txt"
            mv "$work/valid-open-fits.txt" "$work/valid-open.txt"
        fi
    fi
    if ((open_count > 0)); then
        # The rest can run slower than the warm run it was sized by: 4 s of codes need 5 s of the step.
        step_left=$(python3 -c "import time; print(int(($step + 1) * 30 - 1 - time.time()))")
        if ((step_left >= 5)); then
            row "valid codes, open $open_rate/s" -c "$connections" -p "$port" -k "$key" -f "$work/valid-open.txt" -m '"valid":true' -r "$open_rate"
        else
            echo "no open-loop run: the rest left only ${step_left} s of the step"
        fi
    fi

    # Wrong codes: at most 4 per user, so every one is checked (the 5th would start a wait).
    count=$((users * 4 < 12000 * seconds ? users * 4 : 12000 * seconds))
    "$python" Benchmarks/validate/bench.py bodies "$users" wrong "$count" "$step" >"$work/wrong.txt"
    head -n 3000 "$work/wrong.txt" >"$work/wrong-first.txt"
    tail -n +3001 "$work/wrong.txt" >"$work/wrong-rest.txt"
    row "wrong codes, first 3,000" -c "$connections" -p "$port" -k "$key" -f "$work/wrong-first.txt" -m '"valid":false'
    if [[ -s "$work/wrong-rest.txt" ]]; then
        row "wrong codes, the rest" -c "$connections" -p "$port" -k "$key" -f "$work/wrong-rest.txt" -m '"valid":false'
    fi

    kill "$server"
    wait "$server" 2>/dev/null || true
    server=""
    wait "$sampler" 2>/dev/null || true
    sampler=""
    echo "server peak RSS: $(sort -n "$work/rss" | tail -1 | awk '{printf "%.0f MB", $1 / 1024}')"
    if ((repeat > 1)); then
        rm -rf "$served"
        if [[ "$database" == postgres ]]; then
            psql -X -q -v ON_ERROR_STOP=1 "${pg_admin%%\?*}" -c "DROP DATABASE serve_$users WITH (FORCE)" >/dev/null
        fi
    fi
    if grep -qiE 'error|critical' "$work/server.log"; then
        echo "the server logged errors:" >&2
        cat "$work/server.log" >&2
        exit 1
    fi
}

# Each run's median over the servers of --repeat, from the rows row() recorded.
medians() {
    echo "-- medians of $repeat servers"
    python3 - "$work/rows" <<'PYTHON'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    name, *values = line.rstrip("\n").split("\t")
    runs.setdefault(name, []).append(values)
# The range of checks/s too: an open loop's rate is set from each server's own runs.
print(f"{'run':<26} {'servers':>7} {'checks/s':>9} {'range':>13} {'of_noop':>7} {'p99_ms':>7} {'mean_ms':>7} {'cpu_us':>7} {'gen_us':>7} {'cores':>6}")
for name, rows in runs.items():
    def numbers(column):
        return [float(row[column]) for row in rows if row[column] not in ("-", "")]
    def median(column):
        return f"{statistics.median(numbers(column)):g}" if numbers(column) else "-"
    rates = numbers(0)
    spread = f"{min(rates):g}–{max(rates):g}" if rates else "-"
    print(f"{name:<26} {len(rows):>7} {median(0):>9} {spread:>13} {median(1):>7} {median(2):>7} {median(3):>7} {median(4):>7} {median(5):>7} {median(6):>6}")
PYTHON
}

for users in "${users_list[@]}"; do
    data="$work/data-$users"
    echo
    echo "== N = $users users"
    if [[ "$database" == postgres ]]; then
        psql -q "${pg_admin%%\?*}" -c "CREATE DATABASE bench_$users" >/dev/null
        export TWOSTEP_DATABASE="${pg_admin/\/postgres\?/\/bench_$users?}"
    fi
    "$python" Benchmarks/validate/bench.py users "$users" >"$work/users.csv"
    started=$(date +%s%N)
    "$binary" user import "$work/users.csv" --data-dir "$data"
    elapsed=$((($(date +%s%N) - started) / 1000000))
    echo "import: $((elapsed / 1000)).$((elapsed % 1000 / 100)) s ($((users * 1000 / (elapsed > 0 ? elapsed : 1))) users/s)"
    # The imported users were provisioned by no key: a checking key with reach over every account.
    key="$("$binary" apikey create --name bench --scope validate --reach all --data-dir "$data")"
    : >"$work/rows"
    for run in $(seq "$repeat"); do
        ((repeat == 1)) || echo "-- server $run of $repeat"
        serve_and_measure
    done
    ((repeat == 1)) || medians
done
exit "$failed"
