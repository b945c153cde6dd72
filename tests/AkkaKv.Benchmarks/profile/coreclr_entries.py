#!/usr/bin/env python3
"""coreclr_entries.py perf.data: group libcoreclr.so leaf samples of the nodes by the coreclr entry frame (the one managed code called) and the 2nd-level frame."""
import collections, re, subprocess, sys
out = subprocess.run(["perf", "script", "-i", sys.argv[1], "-F", "comm,pid,tid,ip,sym,dso"], capture_output=True, text=True, errors="replace").stdout
pids = set(sys.argv[2:])
ent = collections.Counter(); depth = collections.Counter(); tot = 0; nodes = 0; thr = collections.Counter()
for block in out.split("\n\n"):
    lines = block.strip("\n").split("\n")
    if len(lines) < 2: continue
    m = re.match(r"^(.*?)\s+(\d+)/(\d+)", lines[0])
    if not m or m.group(2) not in pids: continue
    nodes += 1
    fr = []
    for l in lines[1:]:
        mm = re.match(r"^\s*([0-9a-f]+)\s+(.*?)\s+\((.*)\)\s*$", l)
        if mm: fr.append((mm.group(1), mm.group(3)))
    if not fr or not fr[0][1].endswith("libcoreclr.so"): continue
    tot += 1
    i = 0
    while i < len(fr) and fr[i][1].endswith("libcoreclr.so"): i += 1
    entry = fr[i-1][0]; nxt = fr[i][1].split("/")[-1] if i < len(fr) else "END"
    ent[(entry, nxt)] += 1; depth[min(i, 30)] += 1; thr[re.sub(r"\d+$", "", m.group(1).strip())] += 1
print(f"node samples {nodes}, coreclr-leaf {tot} ({100*tot/nodes:.1f}%)")
print("threads:", thr.most_common())
print("depth of coreclr chain:", sorted(depth.items()))
for (e, n), c in ent.most_common(25): print(f"  {100*c/nodes:5.2f}%  entry {e} called from {n}")
