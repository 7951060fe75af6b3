#!/usr/bin/env python3
"""CPU time an encoder engine spends while idle, just after a query
(scripts/bench/encoder.sh; not used by the product or CI).

Runs an engine in lockstep mode (the commands of encoder.sh), asks it for
three single queries, then sums the user + system time of all its threads
over the next --seconds of idleness: worker threads that keep spinning
after their last task show up here, and they compete with whatever runs
next on the machine.

  idle_cpu.py -- /usr/bin/python3 torch_bench.py --model M --lengths L --lockstep
"""
import argparse
import json
import os
import subprocess
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True, bufsize=1)
    if not json.loads(p.stdout.readline()).get("ready"):
        raise SystemExit("expected a ready line")

    def cpu_ticks():
        total = 0
        for task in os.listdir("/proc/%d/task" % p.pid):
            with open("/proc/%d/task/%s/stat" % (p.pid, task)) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime
        return total

    for _ in range(3):
        p.stdin.write("query\n")
        p.stdin.flush()
        p.stdout.readline()
    before = cpu_ticks()
    time.sleep(args.seconds)
    after = cpu_ticks()
    print("CPU time in the %.1f s after a query: %.2f s" % (args.seconds, (after - before) / os.sysconf("SC_CLK_TCK")))
    p.stdin.close()
    p.wait()


if __name__ == "__main__":
    main()
