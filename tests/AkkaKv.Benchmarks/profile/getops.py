#!/usr/bin/env python3
"""getops.py TAG W: GETs in window W = n1 sendto count summed over the perf stat -I intervals inside the window's snapshot times."""
import json, sys, csv, os, datetime
tag, w = sys.argv[1], sys.argv[2]
a = json.load(open(f"{tag}/{w}0.json")); b = json.load(open(f"{tag}/{w}1.json"))
lines = open(f"{tag}/sendto-n1.csv").read().splitlines()
start = None
for l in lines:
    if l.startswith("# started on"):
        start = datetime.datetime.strptime(l[len("# started on "):].strip(), "%a %b %d %H:%M:%S %Y").replace(tzinfo=datetime.timezone.utc).timestamp()
        break
tot = 0.0
for l in lines:
    if not l or l.startswith("#"): continue
    p = l.split(",")
    if "sendto" not in l: continue
    t = start + float(p[0]); cnt = float(p[1]) if p[1].replace(".", "").isdigit() else 0
    # interval (t-1, t]; count the overlap fraction with [a.t, b.t]
    lo, hi = t - 1, t
    ov = max(0.0, min(hi, b["t"]) - max(lo, a["t"]))
    tot += cnt * ov
print(int(tot))
