#!/usr/bin/env python3
"""diff.py A.json B.json [label]: rates between two snapshots; SETs (or ops) counted as journal rows/3 unless OPS=n given."""
import json, sys, os
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
label = sys.argv[3] if len(sys.argv) > 3 else ""
HZ = os.sysconf("SC_CLK_TCK")
dt = b["t"] - a["t"]
rows = sum(b["nodes"][n]["journal_seq"] - a["nodes"][n]["journal_seq"] for n in b["nodes"])
ops = float(os.environ["OPS"]) if "OPS" in os.environ else rows / 3
print(f"== {label} window {dt:.1f} s; journal rows {rows} ({rows/dt:.0f}/s); ops {ops:.0f} ({ops/dt:.0f}/s)")
cpu = [y - x for x, y in zip(a["cpu"], b["cpu"])]
tot = sum(cpu)
names = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"]
print("  box CPU %: " + " ".join(f"{n}={100*v/tot:.1f}" for n, v in zip(names, cpu)) + f"  box ctxt/s={(b['ctxt']-a['ctxt'])/dt:.0f}")
T = dict(cpu_ms=0, u=0, s=0, vol=0, nonvol=0)
for n, bn in b["nodes"].items():
    an = a["nodes"][n]
    u = (bn["utime"] - an["utime"]) * 1000 / HZ; s = (bn["stime"] - an["stime"]) * 1000 / HZ
    # per-thread deltas (threads that exited in the window are lost: an undercount)
    vol = sum(t["vol"] - an["tasks"].get(tid, {}).get("vol", 0) for tid, t in bn["tasks"].items())
    nonvol = sum(t["nonvol"] - an["tasks"].get(tid, {}).get("nonvol", 0) for tid, t in bn["tasks"].items())
    busy = []
    for tid, t in bn["tasks"].items():
        if tid in an["tasks"]:
            d = (t["ticks"] - an["tasks"][tid]["ticks"]) * 1000 / HZ
            if d > 0: busy.append((d, t["comm"], tid))
    busy.sort(reverse=True)
    n1pct = sum(1 for d, *_ in busy if d / dt / 10 >= 1.0)
    syscw = bn["syscw"] - an["syscw"]; syscr = bn["syscr"] - an["syscr"]
    print(f"  {n} pid {bn['pid']}: CPU {100*(u+s)/1000/dt:.0f}% (user {100*u/1000/dt:.0f}%, sys {100*s/1000/dt:.0f}%), "
          f"{(u+s)/ops if ops else 0:.3f} ms/op; ctx vol {vol/dt:.0f}/s nonvol {nonvol/dt:.0f}/s = {(vol+nonvol)/ops if ops else 0:.1f}/op; "
          f"threads {bn['threads']} (>=1% CPU: {n1pct}); journal rows {bn['journal_seq']-an['journal_seq']}; write-ish syscalls {syscw/dt:.0f}/s read-ish {syscr/dt:.0f}/s")
    print("     top threads (ms CPU in window): " + ", ".join(f"{c}:{d:.0f}" for d, c, _ in busy[:8]))
    T["cpu_ms"] += u + s; T["u"] += u; T["s"] += s; T["vol"] += vol; T["nonvol"] += nonvol
for p, bx in b["extra"].items():
    if p in a["extra"]:
        ax = a["extra"][p]; u = (bx["utime"] - ax["utime"]) * 1000 / HZ; s = (bx["stime"] - ax["stime"]) * 1000 / HZ
        print(f"  extra pid {p}: CPU {100*(u+s)/1000/dt:.0f}% (user {u/(u+s+1e-9)*100:.0f}% of it), {(u+s)/ops if ops else 0:.3f} ms/op")
print(f"  ALL NODES: CPU {T['cpu_ms']/1000/dt*100:.0f}% of one core; {T['cpu_ms']/ops if ops else 0:.3f} ms CPU/op (user {T['u']/ops if ops else 0:.3f}, sys {T['s']/ops if ops else 0:.3f}); "
      f"ctx switches {(T['vol']+T['nonvol'])/dt:.0f}/s = {(T['vol']+T['nonvol'])/ops if ops else 0:.1f}/op (vol {T['vol']/ops if ops else 0:.1f}, nonvol {T['nonvol']/ops if ops else 0:.1f})")
