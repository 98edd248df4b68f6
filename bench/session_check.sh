#!/usr/bin/env bash
# What the session check costs: scenario (b) of scenarios.sh (a profile by handle with skills and
# reputation) as a signed-in person, closed-loop with wrk at 8 connections, with two tokens that
# differ only in the session claim:
#   session     the access token login returns (claim `sid`): every request checks that its
#               session has not ended (a session confirmed alive is trusted 60 s per instance)
#   no session  the same claims without `sid`, signed here with the server's JWT_SECRET: no check
# Runs alternate (ROUNDS of each, so drift hits both alike); prints each run, the medians, and
# the check's cost as the drop in median req/s and the rise in median p50.
#
# Usage: JWT_SECRET=… bench/session_check.sh [GRAPHQL_URL] [SECONDS] [ROUNDS]
#   cargo build --release
#   JWT_SECRET=bench-secret-0123456789abcdef0123456789 DATABASE_URL=postgres://… LOGIN_RATE_LIMIT=1000000 \
#     ./target/release/semasocial serve &
#   JWT_SECRET=bench-secret-0123456789abcdef0123456789 bench/session_check.sh http://127.0.0.1:8000/graphql 10 3
# Registers one person (a fresh handle per run). Installs wrk from Debian when missing.
set -euo pipefail

URL="${1:-http://127.0.0.1:8000/graphql}"
SECONDS_PER_RUN="${2:-10}"
ROUNDS="${3:-3}"
: "${JWT_SECRET:?set JWT_SECRET to the secret the server runs with}"

if ! command -v wrk >/dev/null; then
  apt-get install -y --no-install-recommends wrk >/dev/null \
    || { apt-get update >/dev/null && apt-get install -y --no-install-recommends wrk >/dev/null; }
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# gql QUERY [TOKEN] PATH: runs a query, prints the string at the dot-separated path.
gql() {
  python3 - "$URL" "$1" "${2:-}" "$3" <<'PY'
import json, sys, urllib.request
url, query, token, path = sys.argv[1:5]
headers = {"content-type": "application/json"}
if token:
    headers["authorization"] = f"Bearer {token}"
request = urllib.request.Request(url, json.dumps({"query": query}).encode(), headers)
answer = json.load(urllib.request.urlopen(request))
if answer.get("errors"):
    sys.exit(f"query failed: {answer}")
value = answer["data"]
for key in path.split("."):
    value = value[key]
print(value)
PY
}

HANDLE="bench_$(date +%s)_$$"
REGISTER='mutation { register(input: { email: "HANDLE@example.com", password: "correct horse battery", handle: "HANDLE", displayName: "Bench" }) { accessToken } }'
SESSION_TOKEN="$(gql "${REGISTER//HANDLE/$HANDLE}" "" register.accessToken)"
gql 'mutation { setMySkills(input: { skills: [{ skill: "rust", level: 4 }, { skill: "sql", level: 3 }] }) { handle } }' \
  "$SESSION_TOKEN" setMySkills.handle >/dev/null
# The same claims without the session, signed HS256 with the server's secret.
cat >"$WORK/unsession.py" <<'PY'
import base64, hashlib, hmac, json, os, sys
def b64(data): return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
def unb64(text): return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
header, payload, _ = sys.argv[1].split(".")
claims = json.loads(unb64(payload))
assert "sid" in claims, "the login token carries its session"
del claims["sid"]
signing = header + "." + b64(json.dumps(claims, separators=(",", ":")).encode())
mac = hmac.new(os.environ["JWT_SECRET"].encode(), signing.encode(), hashlib.sha256).digest()
print(signing + "." + b64(mac))
PY
PLAIN_TOKEN="$(python3 "$WORK/unsession.py" "$SESSION_TOKEN")"

QUERY='{ profile(handle: "HANDLE") { displayName headline reputation { score } skills { skill level } } }'
QUERY="${QUERY//HANDLE/$HANDLE}"
python3 -c 'import json, sys; print(json.dumps({"query": sys.argv[1]}))' "$QUERY" >"$WORK/body.json"
# Both tokens must answer the query without errors (a bad signature would be a 401).
for token in "$SESSION_TOKEN" "$PLAIN_TOKEN"; do
  answer="$(curl -sf "$URL" -H 'content-type: application/json' -H "authorization: Bearer $token" --data @"$WORK/body.json")"
  if [[ "$answer" != *"\"displayName\":\"Bench\""* ]]; then
    echo "the profile query fails: $answer" >&2
    exit 1
  fi
done
cat >"$WORK/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
local file = io.open(os.getenv("BODY_FILE"), "r")
wrk.body = file:read("*a")
file:close()
LUA

: >"$WORK/results"
for round in $(seq 1 "$ROUNDS"); do
  for variant in session plain; do
    token="$SESSION_TOKEN"
    [[ "$variant" == plain ]] && token="$PLAIN_TOKEN"
    BODY_FILE="$WORK/body.json" TOKEN="$token" wrk -t2 -c8 -d"${SECONDS_PER_RUN}s" --latency \
      -s "$WORK/post.lua" "$URL" >"$WORK/wrk.txt"
    python3 - "$variant" "$round" "$WORK/wrk.txt" "$WORK/results" <<'PY'
import re, sys
variant, round_, path, results = sys.argv[1:5]
text = open(path).read()
m = re.search(r"^\s*50%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
p50 = float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
if bad:
    sys.exit(f"{variant}: {bad.group(1)} non-2xx answers")
label = "session" if variant == "session" else "no session"
print(f"round {round_}  {label:<10}  {rps:>8.0f} req/s  p50 {p50:.3f} ms")
open(results, "a").write(f"{variant}\t{rps}\t{p50}\n")
PY
  done
done
python3 - "$WORK/results" <<'PY'
import statistics, sys
rows = [line.split("\t") for line in open(sys.argv[1]).read().splitlines()]
def median(variant, column):
    return statistics.median(float(r[column]) for r in rows if r[0] == variant)
rps_s, rps_p = median("session", 1), median("plain", 1)
p50_s, p50_p = median("session", 2), median("plain", 2)
print(f"median     session {rps_s:.0f} req/s p50 {p50_s:.3f} ms   no session {rps_p:.0f} req/s p50 {p50_p:.3f} ms")
print(f"the session check costs {100 * (rps_p - rps_s) / rps_p:+.1f}% of req/s, {100 * (p50_s - p50_p) / p50_p:+.1f}% of p50")
PY
