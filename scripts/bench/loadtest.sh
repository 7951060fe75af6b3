#!/usr/bin/env bash
# Load test of splade serve (RELIABILITY.md, "Load"). Not used by CI.
#
# A synthetic SPLADE++-like collection of DOCS documents (splade synth) is
# indexed once into WORKDIR and reused by later runs. splade serve then serves
# it on loopback, and splade bench-serve drives it with CLIENTS closed-loop
# clients for DURATION, alternating exact and approximate searches, checking
# that every answer is a 200 and that a query's answer never changes, and
# sampling the server's resident memory every second.
#
# Reloads under load: the index directory gets a second generation made of
# hard links to the first one's files, and every RELOAD seconds CURRENT is
# switched between the two (write CURRENT.tmp, rename it over CURRENT, as a
# build commits) and the server is sent SIGHUP. Each reload opens and
# verifies the other generation (every checksum, ~1 GB for 1M documents)
# and swaps it in while the clients run; the old one is closed after its last
# request. Both generations hold the same bytes, so any torn or closed read
# would show as an inconsistent answer or an error.
#
# Usage (from the repository root):
#   scripts/bench/loadtest.sh
# Environment:
#   DOCS=1000000  QUERIES=2000  CLIENTS=64  DURATION=60s
#   RELOAD=5                   seconds between reloads (0: none)
#   WORKDIR=/tmp/splade-load   vectors, index, logs and the report
#   ADDR=127.0.0.1:18080       where splade serve listens
#   SERVE_FLAGS="--max-concurrent 4"  extra flags of splade serve
set -euo pipefail

DOCS=${DOCS:-1000000}
QUERIES=${QUERIES:-2000}
CLIENTS=${CLIENTS:-64}
DURATION=${DURATION:-60s}
RELOAD=${RELOAD:-5}
WORKDIR=${WORKDIR:-/tmp/splade-load}
ADDR=${ADDR:-127.0.0.1:18080}
SERVE_FLAGS=${SERVE_FLAGS:-}

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
mkdir -p "$WORKDIR"
bin=$WORKDIR/splade-bench
go build -o "$bin" ./cmd/splade
docs=$WORKDIR/docs-$DOCS.jsonl
queries=$WORKDIR/queries-$DOCS.jsonl
idx=$WORKDIR/idx-$DOCS

if [[ ! -f $idx/CURRENT ]]; then
	if [[ ! -f $queries ]]; then
		nice -n 10 "$bin" synth --docs "$DOCS" --queries "$QUERIES" --seed 7 --out-docs "$docs" --out-queries "$queries"
	fi
	nice -n 10 "$bin" index --input "$docs" --output "$idx" 2>&1 | tee "$WORKDIR/index.log"
fi

# Two generations with the same files.
first=$(sed -n 2p "$idx/CURRENT")
second=gen-999999
if [[ $first == "$second" ]]; then
	second=gen-999998
fi
if [[ ! -d $idx/$second ]]; then
	cp -al "$idx/$first" "$idx/$second"
fi

"$bin" serve --index "$idx" --addr "$ADDR" $SERVE_FLAGS 2>"$WORKDIR/serve.log" &
serve_pid=$!
flipper_pid=
cleanup() {
	[[ -n $flipper_pid ]] && kill "$flipper_pid" 2>/dev/null
	kill "$serve_pid" 2>/dev/null || true
	wait "$serve_pid" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 600); do
	curl -sf "http://$ADDR/healthz" >/dev/null && break
	sleep 0.5
done

if [[ $RELOAD != 0 ]]; then
(
	gens=("$first" "$second")
	i=1
	while sleep "$RELOAD"; do
		printf 'splade-index 1\n%s\n' "${gens[i % 2]}" >"$idx/CURRENT.tmp"
		mv -f "$idx/CURRENT.tmp" "$idx/CURRENT"
		kill -HUP "$serve_pid"
		i=$((i + 1))
	done
) &
flipper_pid=$!
fi

status=0
"$bin" bench-serve --url "http://$ADDR" --queries "$queries" --clients "$CLIENTS" --duration "$DURATION" \
	--modes exact,approximate --json "$WORKDIR/report.json" | tee "$WORKDIR/report.txt" || status=$?
[[ -n $flipper_pid ]] && kill "$flipper_pid" 2>/dev/null
flipper_pid=
curl -s "http://$ADDR/metrics" | grep -E '^splade_index_reloads_total|^splade_rejected_requests_total|^process_resident_memory_bytes' | tee -a "$WORKDIR/report.txt"
echo "reloads logged: $(grep -c 'index reloaded' "$WORKDIR/serve.log" || true); reload failures: $(grep -c 'reload failed' "$WORKDIR/serve.log" || true)" | tee -a "$WORKDIR/report.txt"
exit $status
