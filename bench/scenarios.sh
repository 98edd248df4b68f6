#!/usr/bin/env bash
# Read-path scenarios against a running server, closed-loop with wrk, at 8 and 32 connections:
#   (a) the public gig feed, 20 a page, with owner, organization and community
#   (b) a profile by handle with skills and reputation
#   (d) page 1,000 of the gig feed by cursor (the cursor found by walking the feed first)
#   (e) gig search by text and skills
#   (g) myTasks with an agent token (when LOAD_TOKEN is set, e.g. the token seed-demo prints)
# Each prints requests/s, p50, p99 and SQL statements per request (from the server's
# graphql_request_sql_statements histogram on /metrics, before and after the run).
#
# Usage: bench/scenarios.sh [GRAPHQL_URL] [SECONDS]
#   cargo build --release && DATABASE_URL=postgres://… ./target/release/semasocial seed-demo --scale 1
#   DATABASE_URL=postgres://… ./target/release/semasocial serve &
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
trap 'rm -rf "$WORK"' EXIT
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

# body QUERY: the JSON request body of a query.
body() { python3 -c 'import json, sys; print(json.dumps({"query": sys.argv[1]}))' "$1"; }

run() { # run NAME QUERY [TOKEN]
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
run "(a) gig feed page 1" "$FEED"
run "(b) profile by handle" '{ profile(handle: "person42") { displayName headline reputation skills { skill level } } }'
CURSOR="$(cursor_of_page 1000)"
run "(d) gig feed page 1,000" "${FEED/first: 20/first: 20, after: \"$CURSOR\"}"
run "(e) gig search text + skills" '{ gigs(filter: { text: "pipeline", skills: ["rust", "sql"] }, first: 20) { edges { node { id title } } } }'
if [[ -n "${LOAD_TOKEN:-}" ]]; then
  run "(g) myTasks (agent token)" '{ myTasks(first: 20) { edges { node { title status } } } }' "$LOAD_TOKEN"
fi
