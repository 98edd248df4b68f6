#!/usr/bin/env bash
# Read-path scenarios against a running server, closed-loop with wrk, at 8 and 32 connections:
#   (a) the public gig feed, 20 a page, with owner, organization and community
#   (b) a profile by handle with skills and reputation
#   (c) a contract dashboard, as its client (person0, owner of org-0)
#   (d) page 1,000 of the gig feed by cursor (the cursor found by walking the feed first)
#   (e) gig search by text and skills
#   (f) a write mix: submitProposal, rsvp, acceptTaskOffer + submitTask by 200 people (other
#       people per run; WRITES_SKIP=N starts after the first N, for a data set written before)
#       (examples/writes.rs), then the invariant checks: ledger-check, and with DATABASE_URL
#       no event over capacity and no two active proposals of one person on one gig
#   (g) myTasks with an agent token (agent0's, issued by its operator person3)
# Each prints requests/s, p50, p99 and SQL statements per request (from the server's
# graphql_request_sql_statements histogram on /metrics, before and after the run).
# Needs the scale data (`seed-demo --scale 1`). (f) writes: the server must run with
# MUTATION_RATE_LIMIT, LOGIN_RATE_LIMIT and LOGIN_IP_RATE_LIMIT lifted (they are per caller,
# and 200 people at full speed exceed them at once); run it last, or on a fresh seed.
#
# The ceiling: with DATABASE_URL set (the database the server uses), (a), (b) and (d) are also
# replayed as raw SQL with pgbench at the same connection counts — the exact statements the
# server issued for one request, values inlined (captured from a second server started with
# RUST_LOG=semasocial::sql=trace; SEMASOCIAL_BIN, default ./target/release/semasocial) — and
# the script prints server req/s ÷ raw SQL transactions/s (one transaction = one request's
# statements).
#
# Usage: [DATABASE_URL=postgres://…] bench/scenarios.sh [GRAPHQL_URL] [SECONDS]
#   cargo build --release && DATABASE_URL=postgres://… ./target/release/semasocial seed-demo --scale 1
#   DATABASE_URL=postgres://… MUTATION_RATE_LIMIT=1000000 LOGIN_RATE_LIMIT=1000000 \
#     LOGIN_IP_RATE_LIMIT=1000000 ./target/release/semasocial serve &
#   cargo build --release --example writes
#   bench/scenarios.sh http://127.0.0.1:8000/graphql 10
# Talks only to the given server (127.0.0.1 by default). Installs wrk from Debian when missing.
set -euo pipefail

URL="${1:-http://127.0.0.1:8000/graphql}"
SECONDS_PER_RUN="${2:-10}"
METRICS="${URL%/graphql}/metrics"

if ! command -v wrk >/dev/null; then
  apt-get install -y --no-install-recommends wrk >/dev/null \
    || { apt-get update >/dev/null && apt-get install -y --no-install-recommends wrk >/dev/null; }
fi

WORK="$(mktemp -d)"
CAPTURE_PID=""
trap 'if [[ -n "$CAPTURE_PID" ]]; then kill "$CAPTURE_PID" 2>/dev/null || true; fi; rm -rf "$WORK"' EXIT
touch "$WORK/results"
cat >"$WORK/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/graphql-response+json"
local token = os.getenv("TOKEN")
if token and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end
local file = io.open(os.getenv("BODY_FILE"), "r")
wrk.body = file:read("*a")
file:close()
LUA

# The statement histogram's sum and count, as "sum count".
statements() {
  curl -sf "$METRICS" | awk '/^graphql_request_sql_statements_sum/ { s = $2 } /^graphql_request_sql_statements_count/ { c = $2 } END { print s + 0, c + 0 }'
}

# gql QUERY [TOKEN] [JSON-PATH...]: runs a query, prints the value at the path (dot-separated).
gql() {
  local query="$1" token="${2:-}" path="${3:-}"
  body "$query" | curl -sf "$URL" -H 'content-type: application/json' ${token:+-H "authorization: Bearer $token"} \
    --data @- | python3 -c '
import json, sys
answer, value = json.load(sys.stdin), None
if answer.get("errors"):
    sys.exit(f"query failed: {answer}")
value = answer["data"]
for key in [k for k in sys.argv[1].split(".") if k]:
    value = value[int(key)] if isinstance(value, list) else value[key]
print(value if isinstance(value, str) else json.dumps(value))' "$path"
}

login() { # login EMAIL → an access token
  gql "mutation { login(input: { email: \"$1\", password: \"demo-password-123\" }) { accessToken } }" "" login.accessToken
}

# body QUERY: the JSON request body of a query.
body() { python3 -c 'import json, sys; print(json.dumps({"query": sys.argv[1]}))' "$1"; }

run() { # run NAME QUERY [TOKEN] (TOKEN also for the ceiling's capture)
  local name="$1" query="$2" token="${3:-}"
  body "$query" >"$WORK/body.json"
  # One request first: it must answer without errors.
  local answer
  answer="$(curl -sf "$URL" -H 'content-type: application/json' ${token:+-H "authorization: Bearer $token"} --data @"$WORK/body.json")"
  if [[ "$answer" == *'"errors"'* ]]; then
    echo "$name: the query fails: $answer" >&2
    exit 1
  fi
  for connections in 8 32; do
    local before after
    before="$(statements)"
    BODY_FILE="$WORK/body.json" TOKEN="$token" wrk -t2 -c"$connections" -d"${SECONDS_PER_RUN}s" --latency \
      -s "$WORK/post.lua" "$URL" >"$WORK/wrk.txt"
    after="$(statements)"
    python3 - "$name" "$connections" "$before" "$after" "$WORK/wrk.txt" <<'PY'
import re, sys
name, connections, before, after, path = sys.argv[1:6]
text = open(path).read()
def ms(label):
    m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
(s0, c0), (s1, c1) = (map(float, before.split()), map(float, after.split()))
per_request = (s1 - s0) / (c1 - c0) if c1 > c0 else float("nan")
print(f"{name:<34} {connections:>3} conn  {rps:>8.0f} req/s  p50 {ms(50):>7.2f} ms  p99 {ms(99):>7.2f} ms"
      f"  {per_request:>4.1f} SQL/req" + (f"  {errors.group(1)} non-2xx!" if errors else ""))
PY
    awk -v n="$name" -v c="$connections" '/Requests\/sec:/ { printf "%s\t%s\t%s\n", n, c, $2 }' "$WORK/wrk.txt" >>"$WORK/results"
  done
}

# The raw-SQL ceiling of a scenario already run: its statements, captured once from a server
# tracing SQL, replayed by pgbench at the same connection counts.
ceiling() { # ceiling NAME QUERY [TOKEN]
  local name="$1" query="$2" token="${3:-}"
  [[ -n "${DATABASE_URL:-}" ]] || return 0
  if [[ -z "$CAPTURE_PID" ]]; then
    local bin="${SEMASOCIAL_BIN:-./target/release/semasocial}"
    RUST_LOG=semasocial::sql=trace LOG_JSON=true SWEEP_INTERVAL_SECS=0 BIND_ADDR=127.0.0.1:18499 \
      "$bin" serve >"$WORK/capture.log" 2>&1 &
    CAPTURE_PID=$!
    for _ in $(seq 1 60); do
      if (exec 3<>/dev/tcp/127.0.0.1/18499) 2>/dev/null; then break; fi
      sleep 0.5
    done
  fi
  body "$query" >"$WORK/body.json"
  local before
  before="$(wc -l <"$WORK/capture.log")"
  curl -sf http://127.0.0.1:18499/graphql -H 'content-type: application/json' \
    ${token:+-H "authorization: Bearer $token"} --data @"$WORK/body.json" >/dev/null
  tail -n +"$((before + 1))" "$WORK/capture.log" | python3 -c '
import json, sys
for line in sys.stdin:
    try:
        sql = json.loads(line)["fields"]["sql"]
    except (ValueError, KeyError):
        continue
    print(sql.replace("\n", " ") + ";")
' >"$WORK/ceiling.sql"
  local statements
  statements="$(grep -c ';$' "$WORK/ceiling.sql")"
  # pgbench over TCP without TLS, like the server's pool on loopback.
  local pg="$DATABASE_URL"
  [[ "$pg" == *sslmode=* ]] || pg="$pg$([[ "$pg" == *\?* ]] && echo '&' || echo '?')sslmode=disable"
  for connections in 8 32; do
    local tps server
    tps="$(pgbench -n -f "$WORK/ceiling.sql" -c "$connections" -j 2 -T "$SECONDS_PER_RUN" "$pg" 2>/dev/null \
      | awk '/^tps = / { print $3 }')"
    server="$(awk -F'\t' -v n="$name" -v c="$connections" '$1 == n && $2 == c { print $3 }' "$WORK/results")"
    python3 -c 'import sys; name, c, n, tps, server = sys.argv[1:6]; tps, server = float(tps), float(server)
print(f"{name:<34} {c:>3} conn  raw SQL ({n} statements) {tps:>8.0f} tps  server/raw = {server / tps:.2f}")' \
      "$name" "$connections" "$statements" "$tps" "$server"
  done
}

# (d) needs the cursor after 999 pages of 20: walk the feed 50 at a time.
cursor_of_page() { # cursor_of_page N → the endCursor after N-1 pages of 20
  python3 - "$URL" "$1" <<'PY'
import json, sys, urllib.request
url, page = sys.argv[1], int(sys.argv[2])
wanted, seen, after = (page - 1) * 20, 0, None
while seen < wanted:
    take = min(50, wanted - seen)
    query = 'query($a: String) { gigs(first: %d, after: $a) { pageInfo { endCursor hasNextPage } } }' % take
    request = urllib.request.Request(url, json.dumps({"query": query, "variables": {"a": after}}).encode(),
                                     {"content-type": "application/json"})
    info = json.load(urllib.request.urlopen(request))["data"]["gigs"]["pageInfo"]
    after, seen = info["endCursor"], seen + take
    if not info["hasNextPage"]:
        sys.exit(f"the feed ends before page {page}: seed more data (seed-demo --scale 1)")
print(after)
PY
}

FEED='{ gigs(first: 20) { edges { node { id title budget { amountCents currency } owner { displayName } organization { name } community { name } } } } }'
PROFILE='{ profile(handle: "person42") { displayName headline reputation { score } skills { skill level } } }'
CURSOR="$(cursor_of_page 1000)"
DEEP="${FEED/first: 20/first: 20, after: \"$CURSOR\"}"
CLIENT="$(login person0@scale.semasocial.dev)"
CONTRACT="$(gql '{ myContracts(first: 1) { nodes { id } } }' "$CLIENT" myContracts.nodes.0.id)"
DASHBOARD='{ contract(id: "'"$CONTRACT"'") { title status escrow { funded { amountCents } released { amountCents } held { amountCents } }
  dashboard { summary { outcomesAccepted outcomesTotal tasksByStatus { status count } agentShare onTimeRate }
    budget { committed { amountCents } released { amountCents } remaining { amountCents } }
    activity(first: 20) { nodes { action occurredAt } } }
  outcomes { title status tasks { title status assignee { handle } } } } }'
OPERATOR="$(login person3@scale.semasocial.dev)"
AGENT="$(gql '{ profile(handle: "agent0") { id } }' "" profile.id)"
AGENT_TOKEN="$(gql 'mutation { issueAgentToken(input: { agentId: "'"$AGENT"'", name: "bench", scopes: [TASKS_READ] }) { token } }' "$OPERATOR" issueAgentToken.token)"
MY_TASKS='{ myTasks(first: 20) { edges { node { title status assignee { handle } } } } }'

run "(a) gig feed page 1" "$FEED"
run "(b) profile by handle" "$PROFILE"
run "(c) contract dashboard" "$DASHBOARD" "$CLIENT"
run "(d) gig feed page 1,000" "$DEEP"
run "(e) gig search text + skills" '{ gigs(filter: { text: "pipeline", skills: ["rust", "sql"] }, first: 20) { edges { node { id title } } } }'
run "(g) myTasks (agent token)" "$MY_TASKS" "$AGENT_TOKEN"
ceiling "(a) gig feed page 1" "$FEED"
ceiling "(b) profile by handle" "$PROFILE"
ceiling "(c) contract dashboard" "$DASHBOARD" "$CLIENT"
ceiling "(d) gig feed page 1,000" "$DEEP"
ceiling "(g) myTasks (agent token)" "$MY_TASKS" "$AGENT_TOKEN"

# (f) last: it changes the data the others read.
WRITES="${WRITES_BIN:-./target/release/examples/writes}"
SKIP="${WRITES_SKIP:-0}"
for connections in 8 32; do
  # Each run signs in other people, so none of its proposals or RSVPs repeats an earlier one.
  before="$(statements)"
  "$WRITES" "$URL" "$connections" "$SECONDS_PER_RUN" 200 "$SKIP" | sed "s/^/[$connections clients] /"
  after="$(statements)"
  python3 -c 'import sys; (s0, c0), (s1, c1) = (map(float, a.split()) for a in sys.argv[1:3])
print(f"[{sys.argv[3]} clients]   {(s1 - s0) / (c1 - c0):.1f} SQL statements per request (logins and list reads included)")' \
    "$before" "$after" "$connections"
  SKIP=$((SKIP + 200))
done
if [[ -n "${DATABASE_URL:-}" ]]; then
  echo "(f) invariants:"
  "${SEMASOCIAL_BIN:-./target/release/semasocial}" ledger-check
  psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -Atc "
    SELECT 'events over capacity: ' || count(*) FROM (
      SELECT e.id FROM events e JOIN event_rsvps r ON r.event_id = e.id AND r.status = 'GOING'
      GROUP BY e.id, e.capacity HAVING count(*) > e.capacity) x;
    SELECT 'people with two active proposals on one gig: ' || count(*) FROM (
      SELECT gig_id, author_profile_id FROM proposals WHERE status IN ('SUBMITTED', 'SHORTLISTED')
      GROUP BY gig_id, author_profile_id HAVING count(*) > 1) y;"
fi
