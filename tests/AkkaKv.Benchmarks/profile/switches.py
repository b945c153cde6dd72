#!/usr/bin/env python3
"""switches.py perf-sw.data PID: why threads of PID leave the CPU (sched:sched_switch with stacks)."""
import collections, re, subprocess, sys, os
sys.argv += []
data, pid = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.dirname(__file__))
out = subprocess.run(["perf", "script", "-i", data, "--show-mmap-events", "-F", "comm,pid,tid,event,trace,ip,sym,dso"], capture_output=True, text=True, errors="replace").stdout
# reuse the memfd resolver from analyze.py
import importlib.util
mm = collections.defaultdict(list)
mmre = re.compile(r"PERF_RECORD_MMAP2? (\d+)/\d+: \[0x([0-9a-f]+)\(0x([0-9a-f]+)\) @ (0x[0-9a-f]+|0) .*\]: (\S+) (.*)$")
import bisect
rows = []
for line in open(f"/tmp/perf-{pid}.map", errors="replace"):
    a, sz, name = line.rstrip("\n").split(" ", 2); rows.append((int(a, 16), int(sz, 16), name))
rows.sort(); starts = [r[0] for r in rows]
def resolve(rel):
    for pgoff, ln, start in mm[int(pid)]:
        if pgoff <= rel < pgoff + ln:
            a = rel - pgoff + start; i = bisect.bisect_right(starts, a) - 1
            if i >= 0 and a < rows[i][0] + rows[i][1]: return rows[i][2]
    return "[jit ?]"
events = []; cur = None
for line in out.split("\n"):
    if "PERF_RECORD_MMAP" in line:
        m = mmre.search(line)
        if m and "doublemapper" in m.group(6): mm[int(m.group(1))].append((int(m.group(4), 16), int(m.group(3), 16), int(m.group(2), 16)))
        continue
    if not line.strip():
        if cur: events.append(cur); cur = None
        continue
    if not line.startswith(("\t", " ")):
        if cur: events.append(cur)
        m = re.match(r"^(.*?)\s+(\d+)/(\d+)\s+sched:sched_switch:\s+(.*)$", line)
        if not m: cur = None; continue
        st = re.search(r"prev_state=(\S+)", m.group(4))
        cur = [m.group(1).strip(), st.group(1) if st else "?", []]
        continue
    if cur is None: continue
    m = re.match(r"^\s*([0-9a-f]+)\s+(.*?)\s+\((.*)\)\s*$", line)
    if not m: continue
    sym, dso = m.group(2), m.group(3)
    if "doublemapper" in dso: sym = resolve(int(m.group(1), 16)); dso = "jit"
    cur[2].append((sym, dso))
if cur: events.append(cur)
tot = len(events)
def strip(s): return re.sub(r"\[(OptimizedTier1|QuickJitted|Optimized|InstrumentedTier\w*|Tier\w*)\]$", "", re.sub(r"^.*?\] ", "", s))[:110]
why = collections.Counter(); where = collections.Counter(); comm = collections.Counter()
for c, st, fr in events:
    ks = [s for s, d in fr if d == "[kernel.kallsyms]"]
    if st.startswith("R"): w = "preempted (runnable)"
    elif any("futex" in s for s in ks): w = "futex wait"
    elif any("ep_poll" in s or "epoll" in s for s in ks): w = "epoll_wait"
    elif any(s in ("io_schedule", "folio_wait_bit", "folio_wait_writeback") or "fsync" in s for s in ks): w = "I/O wait (fsync/writeback)"
    elif any("nanosleep" in s or "hrtimer" in s for s in ks): w = "sleep"
    elif any("sched_yield" in s for s in ks): w = "sched_yield"
    else: w = "other: " + (ks[-3] if len(ks) > 2 else "?")
    mf = next((strip(s) for s, d in fr if d == "jit" and not s.startswith(("stub", "[jit"))), None)
    # the first 'interesting' managed frame: skip generic threading frames
    interesting = None
    for s, d in fr:
        if d != "jit" or s.startswith(("stub", "[jit")): continue
        t = strip(s)
        if re.match(r"(instance )?\S+ ?(System\.Threading\.(LowLevel|Monitor|SemaphoreSlim|ManualResetEventSlim|WaitHandle|Thread::|PortableThreadPool|WaitSubsystem|TimerQueue|Tasks)|System\.Threading\.LowLevelLifoSemaphore)", t) and interesting is None:
            interesting = t; continue
        if interesting is None: interesting = t
        break
    why[w] += 1; where[(w, re.sub(r"\d+$", "", c), mf or "(native thread, no managed frame)")] += 1; comm[re.sub(r"\d+$", "", c)] += 1
print(f"{tot} switches-out of pid {pid} threads")
for w, n in why.most_common(): print(f"  {100*n/tot:5.1f}%  {w}")
print("by thread name:", ", ".join(f"{c}: {100*n/tot:.1f}%" for c, n in comm.most_common()))
print("top (reason, thread, first managed frame):")
for (w, c, f), n in where.most_common(25): print(f"  {100*n/tot:5.1f}%  {w:28s} {c:16s} {f}")
