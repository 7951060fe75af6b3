#!/usr/bin/env python3
"""Runs encoder engines in lockstep, workload by workload (scripts/bench/
encoder.sh; not used by the product or CI).

On a machine shared with other jobs the load changes from minute to minute,
so engines timed one after the other (each for minutes) are compared under
different loads. Here every engine runs as a server (bench-encode
--lockstep, ort_bench.js --lockstep, torch_bench.py --lockstep) and the
driver hands the same workload to each in turn: one batch of 16 x 128
documents, then --queries single queries (one engine after the other for
each), then the mixed-length set; the order of the engines rotates, and
the driver pauses --pause seconds between runs so that one engine's
spinning threads have settled before the next starts. Every workload runs
once untimed first. Medians over --rounds rounds.

  lockstep.py --rounds 5 --queries 10 --mixed-docs 256 --out results.json \\
      --engine 'Go=splade bench-encode --model M --lockstep' \\
      --engine 'ORT=node ort_bench.js model.onnx lengths.txt 2 --lockstep' \\
      --engine 'PyTorch=python3 torch_bench.py --model M --lengths lengths.txt --lockstep'

Prints a markdown table (documents/s for the batch and mixed workloads, ms
for the query; ratios of the first engine over each other) and writes every
sample to --out.
"""
import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time


class Engine:
    def __init__(self, name, cmd):
        self.name = name
        self.proc = subprocess.Popen(shlex.split(cmd), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1)
        self.info = self._read()
        if not self.info.get("ready"):
            raise SystemExit("%s: expected a ready line, got %r" % (name, self.info))
        self.samples = {}

    def _read(self):
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit("%s exited (status %s)" % (self.name, self.proc.wait()))
        return json.loads(line)

    def run(self, op):
        self.proc.stdin.write(op + "\n")
        self.proc.stdin.flush()
        r = self._read()
        if r.get("op") != op:
            raise SystemExit("%s: asked for %s, got %r" % (self.name, op, r))
        return r["s"]

    def close(self):
        self.proc.stdin.close()
        if self.proc.wait() != 0:
            raise SystemExit("%s exited with status %d" % (self.name, self.proc.returncode))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--engine", action="append", required=True, metavar="NAME=COMMAND")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--queries", type=int, default=10, help="single queries per engine per round")
    ap.add_argument("--mixed-docs", type=int, default=0, help="texts of the mixed workload (0: skip it)")
    ap.add_argument("--pause", type=float, default=0.05, help="seconds between runs")
    ap.add_argument("--out", help="write all samples here (JSON)")
    args = ap.parse_args()
    engines = []
    for spec in args.engine:
        name, _, cmd = spec.partition("=")
        engines.append(Engine(name, cmd))
    ops = ["batch"] + ["query"] * args.queries + (["mixed"] if args.mixed_docs else [])
    for e in engines:  # warm-up
        for op in dict.fromkeys(ops):
            e.run(op)
    load = []
    k = 0
    for r in range(args.rounds):
        load.append(os.getloadavg()[0])
        for op in ops:
            k += 1
            for i in range(len(engines)):
                e = engines[(i + k) % len(engines)]
                time.sleep(args.pause)
                e.samples.setdefault(op, []).append(e.run(op))
        print("round %d done, load average %.2f" % (r + 1, os.getloadavg()[0]), file=sys.stderr, flush=True)
    for e in engines:
        e.close()

    def value(e, op):
        m = statistics.median(e.samples[op])
        return {"batch": 16 / m, "query": 1000 * m, "mixed": args.mixed_docs / m if m else 0}[op]

    rows = [("docs/s, batch 16 x 128", "batch", True), ("ms, one 16-token query", "query", False)]
    if args.mixed_docs:
        rows.append(("docs/s, mixed (%d SciFact texts)" % args.mixed_docs, "mixed", True))
    first, others = engines[0], engines[1:]
    print("medians over %d lockstep rounds (%d queries per round); load average %.1f-%.1f"
          % (args.rounds, args.queries, min(load), max(load)))
    head = "| workload | " + " | ".join(e.name for e in engines) + " | " + " | ".join(
        "%s/%s" % (first.name, o.name) for o in others) + " |"
    print(head)
    print("|" + "---|" * (1 + len(engines) + len(others)))
    for label, op, higher in rows:
        vals = [value(e, op) for e in engines]
        ratios = [(vals[0] / v if higher else v / vals[0]) for v in vals[1:]]
        print("| %s | %s | %s |" % (label, " | ".join("%.2f" % v for v in vals), " | ".join("%.2fx" % x for x in ratios)))
    print("ratios: %s's speed over the other's (> 1: %s is faster; for the query, the other's ms over %s's)"
          % (first.name, first.name, first.name))
    # Per-round medians show the spread.
    for label, op, higher in rows:
        per = []
        for e in engines:
            n = len(e.samples[op]) // args.rounds
            rounds = [e.samples[op][i * n:(i + 1) * n] for i in range(args.rounds)]
            per.append("%s %s" % (e.name, " ".join("%.2f" % (
                (16 / statistics.median(x)) if op == "batch" else (1000 * statistics.median(x)) if op == "query"
                else args.mixed_docs / statistics.median(x)) for x in rounds)))
        print("per round, %s: %s" % (label, "; ".join(per)))
    for e in engines:
        print("%s: %s" % (e.name, json.dumps({k: v for k, v in e.info.items() if k != "ready"})))
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"load": load, "engines": {e.name: {"info": e.info, "samples": e.samples} for e in engines}}, f)


if __name__ == "__main__":
    main()
