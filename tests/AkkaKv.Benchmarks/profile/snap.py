#!/usr/bin/env python3
"""snap.py OUT.json [extra pid...]: counters of the 3 nodes (+ extra pids) at one instant."""
import json, os, sys, time, sqlite3
DATA = "/tmp/profile/data"
def stat(pid):
    with open(f"/proc/{pid}/stat") as f: s = f.read()
    rest = s[s.rindex(")") + 2:].split()
    return int(rest[11]), int(rest[12])  # utime, stime (fields 14, 15)
def status(path):
    d = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.partition(":"); d[k] = v.strip()
    return d
def proc(pid):
    u, s = stat(pid)
    tasks = {}
    vol = nonvol = 0
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            tu, ts = stat(f"{pid}/task/{t}")
            st = status(f"/proc/{pid}/task/{t}/status")
            with open(f"/proc/{pid}/task/{t}/comm") as f: comm = f.read().strip()
        except (FileNotFoundError, ProcessLookupError):
            continue
        v, n = int(st["voluntary_ctxt_switches"]), int(st["nonvoluntary_ctxt_switches"])
        vol += v; nonvol += n
        tasks[t] = dict(comm=comm, ticks=tu + ts, vol=v, nonvol=n)
    io = status(f"/proc/{pid}/io") if os.path.exists(f"/proc/{pid}/io") else {}
    return dict(utime=u, stime=s, vol=vol, nonvol=nonvol, threads=len(tasks), tasks=tasks,
                wchar=int(io.get("wchar", "0").split()[0] or 0), syscw=int(io.get("syscw", 0)), syscr=int(io.get("syscr", 0)),
                write_bytes=int(io.get("write_bytes", 0)))
def journal_seq(node):
    c = sqlite3.connect(f"file:{DATA}/{node}/akkakv.db?mode=ro", uri=True, timeout=5)
    try:
        r = c.execute("select seq from sqlite_sequence where name='journal'").fetchone()
        return r[0] if r else 0
    finally:
        c.close()
out = dict(t=time.time(), nodes={}, extra={})
with open("/proc/stat") as f:
    for line in f:
        if line.startswith("cpu "): out["cpu"] = [int(x) for x in line.split()[1:]]
        if line.startswith("ctxt"): out["ctxt"] = int(line.split()[1])
for n in ("n1", "n2", "n3"):
    pid = int(open(f"{DATA}/{n}/pid").read())
    d = proc(pid); d["pid"] = pid; d["journal_seq"] = journal_seq(n)
    out["nodes"][n] = d
for p in sys.argv[2:]:
    try: out["extra"][p] = proc(int(p))
    except FileNotFoundError: pass
json.dump(out, open(sys.argv[1], "w"))
