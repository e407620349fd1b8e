#!/usr/bin/env bash
# Instructions per review, which unlike CPU time do not depend on what else runs on the
# machine: one server under valgrind's callgrind, instrumentation off while V8 warms up
# (WARM reviews), then on for COUNT reviews; prints the main thread's instructions / COUNT.
# Servers: gate (practice-gate serve, default config, logging to a pipe as deployed) and
# floor (bench/ceiling-server.ts --json answering practice-gate's own answer to the body).
# Bodies: the 3-container Deployments of bench:judging (compliant, sidecars-bad, nothing).
# Usage: npm run build:bench && bash bench/callgrind-review.sh gate|floor compliant|sidecars|nothing
# WARM (default 4000), COUNT (default 3000); KEEP=1 keeps callgrind.out.* in the temp dir.
set -euo pipefail
server=${1:?usage: callgrind-review.sh gate|floor compliant|sidecars|nothing}
shape=${2:?usage: callgrind-review.sh gate|floor compliant|sidecars|nothing}
WARM=${WARM:-4000} COUNT=${COUNT:-3000}
repo=$(cd "$(dirname "$0")/.." && pwd)
[[ -f $repo/dist/bench/lib/manifests.js ]] || { echo "callgrind-review: run npm run build:bench first" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "callgrind-review: valgrind is needed (apt-get install valgrind)" >&2; exit 1; }
tmp=$(mktemp -d)
pid=
cleanup() { [[ -z $pid ]] || kill "$pid" 2>/dev/null || true; [[ -n ${KEEP:-} ]] || rm -rf "$tmp"; }
trap cleanup EXIT
node "$repo/bin/practice-gate.js" certs --service bench --namespace bench --ip 127.0.0.1 --out "$tmp/pki" >/dev/null
node --input-type=module -e "
  import { writeFileSync } from 'node:fs';
  import { COMPLIANT, NOTHING, deployment, review } from '$repo/dist/bench/lib/manifests.js';
  const shapes = { compliant: [COMPLIANT], sidecars: [COMPLIANT, NOTHING, NOTHING], nothing: [NOTHING] };
  writeFileSync('$tmp/body.json', review(deployment('api', shapes['$shape'])));
"
answer() { # port
  curl -sk -X POST -H 'content-type: application/json' --data-binary @"$tmp/body.json" "https://127.0.0.1:$1/validate"
}
cd "$tmp"
start() { # command...
  valgrind --tool=callgrind --instr-atstart=no --separate-threads=yes "$@" > "$tmp/out.log" 2> "$tmp/err.log" &
  pid=$!
  for _ in $(seq 600); do
    port=$(grep -o '"port":[0-9]*' "$tmp/out.log" | head -1 | cut -d: -f2 || true)
    [[ -n $port ]] && return 0
    sleep 0.5
  done
  echo "callgrind-review: server did not start" >&2; cat "$tmp/err.log" >&2; exit 1
}
if [[ $server == floor ]]; then
  # The floor answers with practice-gate's own answer, taken from a gate run outside valgrind.
  node "$repo/bin/practice-gate.js" serve --tls-cert pki/tls.crt --tls-key pki/tls.key --port 0 --host 127.0.0.1 > gate.log 2>&1 & gpid=$!
  for _ in $(seq 100); do gport=$(grep -o '"port":[0-9]*' gate.log | head -1 | cut -d: -f2 || true); [[ -n $gport ]] && break; sleep 0.2; done
  answer "$gport" > answer.json; kill "$gpid"
  start node "$repo/dist/bench/ceiling-server.js" pki/tls.crt pki/tls.key answer.json --json
else
  start node "$repo/bin/practice-gate.js" serve --tls-cert pki/tls.crt --tls-key pki/tls.key --port 0 --host 127.0.0.1
fi
cannon() { node "$repo/node_modules/autocannon/autocannon.js" -m POST -H 'content-type=application/json' -i "$tmp/body.json" -c 8 -a "$1" "https://127.0.0.1:$port/validate" > /dev/null 2>&1; }
cannon "$WARM"
callgrind_control -i on "$pid" > /dev/null
callgrind_control -z "$pid" > /dev/null
cannon "$COUNT"
callgrind_control -d "$pid" > /dev/null
callgrind_control -i off "$pid" > /dev/null
main=$(ls -S callgrind.out.*-01 2>/dev/null | head -1)
total=$(grep -m1 '^summary:\|^totals:' "$main" | awk '{print $2}')
echo "$server $shape: $((total / COUNT)) main-thread instructions per review ($COUNT reviews after $WARM warm-up; $main)"
[[ -z ${KEEP:-} ]] || echo "kept in $tmp"
