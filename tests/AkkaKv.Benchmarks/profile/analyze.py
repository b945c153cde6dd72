#!/usr/bin/env python3
"""analyze.py perf.data [pid=name ...]: classify cpu-clock samples of .NET processes.
Resolves JIT code in the W^X 'memfd:doublemapper' mappings via /tmp/perf-<pid>.map (perf itself
cannot, because the code is not in an anonymous mapping)."""
import bisect, collections, os, re, subprocess, sys, json

data = sys.argv[1]
names = dict(a.split("=") for a in sys.argv[2:])  # pid -> label
out = subprocess.run(["perf", "script", "-i", data, "--show-mmap-events", "-F", "comm,pid,tid,period,event,ip,sym,dso"],
                     capture_output=True, text=True, errors="replace").stdout

# memfd exec mappings per pid: (pgoff, len, start)
mm = collections.defaultdict(list)
mmre = re.compile(r"PERF_RECORD_MMAP2? (\d+)/\d+: \[0x([0-9a-f]+)\(0x([0-9a-f]+)\) @ (0x[0-9a-f]+|0) .*\]: (\S+) (.*)$")
perfmaps = {}
def perfmap(pid):
    if pid not in perfmaps:
        starts, ents = [], []
        p = f"/tmp/perf-{pid}.map"
        if os.path.exists(p):
            rows = []
            for line in open(p, errors="replace"):
                a, sz, name = line.rstrip("\n").split(" ", 2)
                rows.append((int(a, 16), int(sz, 16), name))
            rows.sort()
            starts = [r[0] for r in rows]; ents = rows
        perfmaps[pid] = (starts, ents)
    return perfmaps[pid]
def resolve(pid, rel):
    for pgoff, ln, start in mm.get(pid, ()):
        if pgoff <= rel < pgoff + ln:
            a = rel - pgoff + start
            starts, ents = perfmap(pid)
            i = bisect.bisect_right(starts, a) - 1
            if i >= 0 and a < ents[i][0] + ents[i][1]:
                return ents[i][2]
            return "[jit ?]"
    return "[jit ?]"

samples = []  # (pid, comm, frames[(sym, dso)], raw)
rawf = {}
cur = None
for line in out.split("\n"):
    if "PERF_RECORD_MMAP" in line:
        m = mmre.search(line)
        if m and "doublemapper" in m.group(6):
            mm[int(m.group(1))].append((int(m.group(4), 16), int(m.group(3), 16), int(m.group(2), 16)))
        continue
    if not line.strip():
        if cur: samples.append(cur); cur = None
        continue
    if not line.startswith("\t") and not line.startswith(" "):
        if cur: samples.append(cur)
        m = re.match(r"^(.*?)\s+(\d+)/(\d+)\s+(\d+)\s+(\S+):", line)
        if not m or not m.group(5).startswith("cpu-clock"): cur = None; continue
        cur = [int(m.group(2)), m.group(1).strip(), []]
        rawf[id(cur)] = []
        cur.append(rawf[id(cur)])
        continue
    if cur is None: continue
    m = re.match(r"^\s*([0-9a-f]+)\s+(.*?)\s+\((.*)\)\s*$", line)
    if not m: continue
    addr, sym, dso = m.group(1), m.group(2), m.group(3)
    cur.append((addr, dso)) if False else None
    rawf.setdefault(id(cur), []).append((addr, dso))
    if "doublemapper" in dso:
        sym = resolve(cur[0], int(addr, 16)); dso = "jit"
    cur[2].append((sym, dso))
if cur: samples.append(cur)

def asm(sym):
    m = re.search(r"\[([A-Za-z0-9_.]+)\] (\S+?)::", sym)
    return (m.group(1), m.group(2)) if m else (None, None)

def user_component(sym, dso, frames):
    d = os.path.basename(dso)
    if "e_sqlite3" in d: return "SQLite native (libe_sqlite3)"
    if d == "libclrjit.so": return "JIT (libclrjit)"
    if d == "libcoreclr.so":
        return "coreclr runtime (stripped: GC, alloc slow path, casts, type system, waits)"
    if d.startswith("libc.so") or d.startswith("libpthread") or d.startswith("ld-linux"): return "libc (memcpy, locks, syscall stubs)"
    if d == "libSystem.Native.so": return "libSystem.Native (syscall shims)"
    if d in ("libclrgc.so", "libclrgcexp.so"): return "GC (standalone)"
    if dso == "jit" or d.endswith(".dll"):
        if dso == "jit":
            if sym.startswith("stub "): return "runtime stubs (interface dispatch, write barrier, precode)"
            if sym.startswith("[jit"): return "unresolved JIT code"
            a, t = asm(sym)
        else:
            a, t = d[:-4], ""
        if a is None: return "runtime stubs / unresolved JIT"
        if a in ("linq2db",) : return "linq2db"
        if a.startswith("Akka.Persistence.Sql"): return "Akka.Persistence.Sql"
        if a in ("Microsoft.Data.Sqlite",) or a.startswith("SQLitePCLRaw"): return "Microsoft.Data.Sqlite / SQLitePCL"
        if a == "Akka.Persistence": return "Akka.Persistence"
        if a == "Akka.Streams" or a.startswith("System.Reactive") or a == "System.Linq.Async": return "Akka.Streams (journal queue)"
        if a == "Akka.Remote" or a.startswith("DotNetty") or a == "System.Net.Sockets" : return "Akka.Remote / DotNetty / sockets"
        if a.startswith("Akka.Cluster") or a == "Akka.DistributedData" or a == "Akka.Coordination": return "Akka.Cluster / Sharding / DData"
        if a == "Akka" or a == "Akka.Hosting":
            if t and (t.startswith("Akka.Serialization") or t.startswith("Akka.Util.ByteString")): return "serialization"
            return "Akka core (actors, dispatch, mailboxes, scheduler, Ask)"
        if a.startswith("AkkaKv"):
            if t and ("Serializ" in t or "Codec" in t or t.startswith("AkkaKv.Protocol.Protocol")): return "serialization"
            return "AkkaKv (our code)"
        if a.startswith("Google.Protobuf"): return "serialization"
        if a == "System.Private.CoreLib":
            if t and t.startswith("System.Threading"): return "BCL threading (thread pool, locks, tasks)"
            return "BCL other (collections, strings, memory)"
        return "BCL/other managed (" + a + ")"
    if dso == "[unknown]": return "unknown"
    return "other native (" + d + ")"

def coreclr_caller(frames):
    """(entry address of the coreclr chain, first managed caller symbol, its component)"""
    for i, (s, dd) in enumerate(frames):
        if dd == "jit" or dd.endswith(".dll"):
            entry = frames[i-1][0] if i > 0 else "?"
            return i, s if dd == "jit" else f"R2R {os.path.basename(dd)}", user_component(s, dd, frames[i:])
    return len(frames), "(no managed caller: native thread)", "native thread"

ALLOC_LO, ALLOC_HI = 0x5fb800, 0x5fbb00   # libcoreclr.so offsets of the allocation-helper entry cluster (see coreclr_entries.py)
raw_entry = {}
def is_gc(comm, frames, raw):
    if comm.startswith(".NET BGC"): return True
    if not raw: return False
    # raw: list of (addr, dso) for this sample; coreclr (or libc memset under coreclr) leaf whose coreclr chain enters via the alloc helpers
    i = 0
    while i < len(raw) and (raw[i][1].endswith("libcoreclr.so") or (i == 0 and "libc.so" in raw[i][1])): i += 1
    if i == 0: return False
    chain = [int(a, 16) for a, d in raw[:i] if d.endswith("libcoreclr.so")]
    return bool(chain) and ALLOC_LO <= chain[-1] < ALLOC_HI

BUCKET = [
    ("SQLite native (libe_sqlite3)", "SQLite native code (libe_sqlite3)"),
    ("SQLite durable I/O", "SQLite file I/O in the kernel (fsync, pwrite, pread, fcntl locks)"),
    ("linq2db", "journal plugin managed code (linq2db, Akka.Persistence.Sql, Microsoft.Data.Sqlite, Akka.Streams queue)"),
    ("Akka.Persistence.Sql", "journal plugin managed code (linq2db, Akka.Persistence.Sql, Microsoft.Data.Sqlite, Akka.Streams queue)"),
    ("Microsoft.Data.Sqlite", "journal plugin managed code (linq2db, Akka.Persistence.Sql, Microsoft.Data.Sqlite, Akka.Streams queue)"),
    ("Akka.Streams", "journal plugin managed code (linq2db, Akka.Persistence.Sql, Microsoft.Data.Sqlite, Akka.Streams queue)"),
    ("BCL/other managed (System.Data", "journal plugin managed code (linq2db, Akka.Persistence.Sql, Microsoft.Data.Sqlite, Akka.Streams queue)"),
    ("Akka.Persistence", "Akka.Persistence (persistent actor, AsyncWriteJournal)"),
    ("Akka.Remote", "remoting: Akka.Remote + DotNetty + .NET sockets (managed)"),
    ("kernel: TCP", "kernel TCP loopback + epoll (syscalls, softirq)"),
    ("Akka core", "Akka core: actor dispatch, mailboxes, actor creation, Ask, scheduler"),
    ("Akka.Cluster", "Akka.Cluster.Sharding routing (+ cluster, ddata)"),
    ("AkkaKv", "AkkaKv (our code: RESP, gateway, coordinators, replica state)"),
    ("serialization", "serialization (Akka + AkkaKv serializers, protobuf)"),
    ("GC", "GC + allocation slow path (coreclr)"),
    ("JIT", "JIT"),
    ("BCL threading", "thread pool / sync (managed threading, futex, context switches, sched_yield)"),
    ("kernel: futex", "thread pool / sync (managed threading, futex, context switches, sched_yield)"),
    ("kernel: context switch", "thread pool / sync (managed threading, futex, context switches, sched_yield)"),
    ("kernel: other", "kernel other (irq, timer/block softirq, faults)"),
]
def bucket(c):
    for p, b in BUCKET:
        if c.startswith(p): return b
    return "other (coreclr/libc/BCL with no owner, misc managed)"

def self_bucket(c):
    """exclusive (leaf) category -> bucket"""
    if c.startswith("kernel: "):
        k = c[8:]
        if k.startswith(("fsync", "file I/O", "SQLite file locks", "block I/O completion")): return bucket("SQLite durable I/O")
        if k.startswith(("TCP", "softirq: network", "epoll")): return bucket("kernel: TCP")
        if k.startswith(("futex", "preemption", "sched_yield")): return bucket("kernel: futex")
        return bucket("kernel: other")
    if c.startswith(("BCL other", "BCL/other managed (System.Collections", "BCL/other managed (System.Linq", "coreclr", "runtime stubs", "unresolved", "libc", "libSystem.Native", "other native", "unknown", "BCL/other managed")) and not c.startswith("BCL/other managed (System.Data"):
        return "runtime + BCL generic (casts, interface dispatch, collections, memcpy; coreclr non-GC)"
    return bucket(c)

def kernel_cats(frames):
    kf = [s for s, d in frames if d == "[kernel.kallsyms]"]
    leaf = kf[0] if kf else "?"
    sysc = "none (irq/fault/kthread)"
    for s in kf:
        m = re.match(r"__(?:x64|se)_sys_(\w+)", s)
        if m: sysc = m.group(1); break
    if sysc.startswith("none"):
        INNER = [("do_fsync", "fsync"), ("ext4_sync_file", "fsync"), ("ksys_pwrite64", "pwrite64"), ("ksys_pread64", "pread64"), ("do_futex", "futex"),
                 ("do_epoll_wait", "epoll_wait"), ("__sys_sendmsg", "sendmsg"), ("__sys_sendto", "sendto"), ("__sys_recvfrom", "recvfrom"), ("tcp_sendmsg", "sendto"),
                 ("tcp_recvmsg", "recvfrom"), ("do_fcntl", "fcntl"), ("do_sched_yield", "sched_yield")]
        for s in kf:
            hit = next((v for k, v in INNER if s.startswith(k)), None)
            if hit: sysc = hit; break
    if any(s in ("asm_exc_page_fault", "exc_page_fault") for s in kf): sysc = "page fault"
    if any(s.startswith("cpuidle") or s in ("default_idle", "do_idle", "pv_native_safe_halt") for s in kf[:6]): sysc = "idle"
    sw = any(x.startswith("__schedule") or x.startswith("finish_task_switch") for x in kf)
    # block completion softirq work runs in whatever context the irq hit; charge it to disk I/O even under another syscall
    if any(x.startswith(("blk_done_softirq", "ext4_end_bio", "flush_end_io")) for x in kf): return leaf, sysc, "block I/O completion (irq/softirq)"
    if sysc == "idle": what = "idle"
    elif any(x in ("net_rx_action", "process_backlog") or x.startswith("tcp_v4_rcv") for x in kf): what = "softirq: network rx (loopback TCP)"
    elif any(x.startswith(("blk_done_softirq", "blk_mq_end_request", "ext4_end_bio", "flush_end_io", "blk_update_request", "vring_interrupt", "vp_interrupt")) for x in kf): what = "block I/O completion (irq/softirq)"
    elif any(x in ("handle_softirqs", "__do_softirq") for x in kf): what = "softirq: other (timers, RCU, block completion)"
    elif sysc == "fsync": what = "fsync (ext4 + jbd2 + virtio-blk, incl. waits)"
    elif sysc in ("pwrite64", "pread64", "write", "read", "ftruncate", "lseek"): what = "file I/O syscalls (SQLite pwrite/pread)"
    elif sysc in ("fcntl",): what = "SQLite file locks (fcntl)"
    elif sysc == "futex": what = "futex: context switch (block/wake-up)" if sw else "futex: wake/other"
    elif sysc == "sched_yield": what = "sched_yield"
    elif sysc in ("epoll_wait", "epoll_pwait"): what = "epoll_wait"
    elif sysc in ("sendto", "sendmsg", "recvfrom", "recvmsg", "writev", "readv"): what = "TCP send/recv syscalls"
    elif sysc == "page fault": what = "page faults"
    elif sysc.startswith("none"): what = "preemption / irq-exit context switch" if sw else "irq / other (no syscall)"
    else: what = "other syscalls (" + sysc + ")"
    return leaf, sysc, what

tot = len(samples)
byproc = collections.Counter(); bycomm = collections.Counter(); kern = 0
userc = collections.Counter(); usersym = collections.Counter(); ksym = collections.Counter(); ksys = collections.Counter(); kwhat = collections.Counter()
procuser = collections.Counter(); prockern = collections.Counter()
combined = collections.Counter()
charged = collections.Counter(); incl = collections.Counter(); inclc = collections.Counter()
GENERIC = ("BCL", "coreclr", "runtime stubs", "libc", "unresolved", "libSystem.Native", "other native", "unknown")
KMAP = {"fsync": "SQLite durable I/O (kernel: fsync, pwrite, pread, fcntl locks)", "pwrite64": "SQLite durable I/O (kernel: fsync, pwrite, pread, fcntl locks)",
        "pread64": "SQLite durable I/O (kernel: fsync, pwrite, pread, fcntl locks)", "fcntl": "SQLite durable I/O (kernel: fsync, pwrite, pread, fcntl locks)",
        "futex": "kernel: futex (blocking/waking threads)", "sched_yield": "kernel: futex (blocking/waking threads)",
        "epoll_wait": "kernel: TCP + epoll (syscalls, softirq)", "recvfrom": "kernel: TCP + epoll (syscalls, softirq)", "sendto": "kernel: TCP + epoll (syscalls, softirq)",
        "sendmsg": "kernel: TCP + epoll (syscalls, softirq)", "recvmsg": "kernel: TCP + epoll (syscalls, softirq)"}
def charge(frames, sysc=None, what=None):
    """walk from the leaf up: the first frame of a non-generic component takes the sample
    (kernel work not done on behalf of a syscall - irqs, softirqs on irq exit, preemption - is not charged to the interrupted code)"""
    if sysc is not None and (sysc.startswith("none") or sysc in ("page fault", "idle")):
        if what and what.startswith("softirq: network"): return "kernel: TCP + epoll (syscalls, softirq)"
        if what and what.startswith("block I/O completion"): return "SQLite durable I/O (kernel: fsync, pwrite, pread, fcntl locks)"
        if what and ("context switch" in what): return "kernel: context switch (preemption/irq exit)"
        return "kernel: other (irq, softirq timers/block, faults)"
    for ss, dd in frames:
        if dd == "[kernel.kallsyms]": continue
        c = user_component(ss, dd, [(ss, dd)])
        if not c.startswith(GENERIC): return c
    if sysc is not None:
        if what and what.startswith("softirq: network"): return "kernel: TCP + epoll (syscalls, softirq)"
        if what and ("context switch" in what): return "kernel: context switch (preemption/irq exit)"
        return KMAP.get(sysc, "kernel: other (irq, softirq timers/block, faults)")
    c0 = user_component(frames[0][0], frames[0][1], frames)
    return c0 + " [no owner on stack]"
coreclr_by_caller = collections.Counter(); coreclr_callsym = collections.Counter(); coreclr_deep = 0
stub_by_caller = collections.Counter(); libc_by_caller = collections.Counter(); switch_any = collections.Counter()
selfb = collections.Counter(); final = collections.Counter(); gc_by_caller = collections.Counter()
for pid, comm, frames, raw in samples:
    pname = names.get(str(pid), f"{comm if pid == 0 else 'pid ' + str(pid)}")
    if pid == 0: pname = "idle/swapper"
    byproc[pname] += 1
    bycomm[(pname, re.sub(r"\d+$", "", comm))] += 1
    if not frames: continue
    sym, dso = frames[0]
    if any(ss.startswith("finish_task_switch") or ss == "__schedule" for ss, dd in frames if dd == "[kernel.kallsyms]"): switch_any[pname] += 1
    seen = set(); seenc = set()
    for ss, dd in frames:
        if dd == "jit" and not ss.startswith(("stub", "[jit")):
            seen.add(re.sub(r"\[(OptimizedTier1|QuickJitted|Optimized|InstrumentedTier\w*|Tier\w*|PreJIT)\]$", "", ss))
        if dd != "[kernel.kallsyms]": seenc.add(user_component(ss, dd, [(ss, dd)]))
    for x in seen: incl[(pname, x)] += 1
    for x in seenc: inclc[(pname, x)] += 1
    if dso == "[kernel.kallsyms]":
        kern += 1; prockern[pname] += 1
        leaf, sysc, what = kernel_cats(frames)
        ksym[(pname == "idle/swapper", leaf)] += 1; ksys[(pname, sysc)] += 1; kwhat[(pname, what)] += 1
        combined[(pname, "kernel: " + what)] += 1
        selfb[(pname, self_bucket("kernel: " + what))] += 1
        ch = charge(frames, sysc, what); charged[(pname, ch)] += 1
        final[(pname, bucket(ch))] += 1
    else:
        procuser[pname] += 1
        c = user_component(sym, dso, frames)
        if c.startswith("coreclr"):
            i, callsym, callc = coreclr_caller(frames)
            coreclr_by_caller[(callc)] += 1; coreclr_callsym[callsym] += 1
            if i >= 14: coreclr_deep += 1
        if c.startswith("runtime stubs"):
            i, callsym, callc = coreclr_caller(frames[1:])
            stub_by_caller[callc] += 1
        if c.startswith("libc"):
            nxt = next(((ss, dd) for ss, dd in frames[1:] if not os.path.basename(dd).startswith(("libc.so", "ld-linux", "libpthread"))), ("?", "?"))
            libc_by_caller[user_component(nxt[0], nxt[1], frames) if nxt[1] != "?" else "?"] += 1
        userc[(pname, c)] += 1; usersym[(c, sym if dso == "jit" else f"{sym} ({os.path.basename(dso)})")] += 1
        combined[(pname, c)] += 1
        selfb[(pname, bucket("GC") if is_gc(comm, frames, raw) else self_bucket(c))] += 1
        ch = charge(frames); charged[(pname, ch)] += 1
        if is_gc(comm, frames, raw):
            final[(pname, bucket("GC"))] += 1
            gc_by_caller[ch] += 1
        else:
            final[(pname, bucket(ch))] += 1

def pct(n, d): return f"{100*n/d:5.1f}%" if d else "  -  "
print(f"samples: {tot}; kernel {kern} ({pct(kern, tot)})")
print("\n== by process (share of all samples; kernel share within the process)")
for p, n in byproc.most_common():
    print(f"  {pct(n, tot)}  {p:28s} kernel {pct(prockern[p], n)} user {pct(procuser[p], n)}")
print("\n== by thread name (comm) within process")
for (p, c), n in bycomm.most_common(25):
    print(f"  {pct(n, tot)}  {p:14s} {c}")
nodes = [p for p in byproc if p.startswith("n")]
nodesum = sum(byproc[p] for p in nodes)
print(f"\n== NODE samples total: {nodesum}; kernel {sum(prockern[p] for p in nodes)} ({pct(sum(prockern[p] for p in nodes), nodesum)})")
agg = collections.Counter()
for (p, c), n in combined.items():
    if p in nodes: agg[c] += n
print("== nodes: components (user by component, kernel by activity) as share of node samples")
for c, n in agg.most_common():
    print(f"  {pct(n, nodesum)}  {c}")
print("\n== nodes: CHARGED view: each sample to the first non-generic component walking up from the leaf (BCL/coreclr/stubs/libc charged to their caller; kernel charged to a managed caller when the stack reaches one, else by syscall)")
aggc = collections.Counter()
for (p, c), n in charged.items():
    if p in nodes: aggc[c] += n
for c, n in aggc.most_common(): print(f"  {pct(n, nodesum)}  {c}")
print("\n== nodes: FINAL buckets (charged view, GC+alloc split out), share of node samples; per node")
aggf = collections.Counter()
for (p, c), n in final.items():
    if p in nodes: aggf[c] += n
for c, n in aggf.most_common():
    print(f"  {pct(n, nodesum)}  {c:100s} " + " ".join(f"{p}:{pct(final[(p, c)], byproc[p])}" for p in sorted(nodes)))
print("== nodes: SELF buckets (leaf-based), share of node samples")
aggs2 = collections.Counter()
for (p, c), n in selfb.items():
    if p in nodes: aggs2[c] += n
for c, n in aggs2.most_common():
    print(f"  {pct(n, nodesum)}  {c:100s} " + " ".join(f"{p}:{pct(selfb[(p, c)], byproc[p])}" for p in sorted(nodes)))
print("  GC+alloc samples by allocating component: " + ", ".join(f"{c}: {pct(n, nodesum)}" for c, n in gc_by_caller.most_common(8)))
print("\n== nodes: INCLUSIVE component (share of node samples with the component anywhere on the stack; native chains through libc/sqlite are often broken)")
aggi = collections.Counter()
for (p, c), n in inclc.items():
    if p in nodes: aggi[c] += n
for c, n in aggi.most_common(20): print(f"  {pct(n, nodesum)}  {c}")
print("\n== nodes: top INCLUSIVE managed methods")
aggm = collections.Counter()
for (p, c), n in incl.items():
    if p in nodes: aggm[c] += n
for c, n in aggm.most_common(70): print(f"  {pct(n, nodesum)}  {c[:170]}")
print("\n== nodes: kernel time by syscall it was under")
aggs = collections.Counter()
for (p, s), n in ksys.items():
    if p in nodes: aggs[s] += n
for s, n in aggs.most_common(15): print(f"  {pct(n, nodesum)}  {s}")
print(f"\n== samples with a context switch (__schedule/finish_task_switch) on the stack, per process: " + ", ".join(f"{p} {pct(switch_any[p], byproc[p])}" for p in byproc))
ct = sum(coreclr_by_caller.values())
print(f"\n== coreclr samples ({ct}, {pct(ct, tot)} of all) by the component of the first managed caller; {coreclr_deep} have >=14 coreclr frames (GC-deep)")
for c, n in coreclr_by_caller.most_common(12): print(f"  {pct(n, tot)}  {c}")
print("  top first managed callers of coreclr:")
for c, n in coreclr_callsym.most_common(15): print(f"  {pct(n, tot)}    {c[:160]}")
print("== runtime-stub samples by caller component")
for c, n in stub_by_caller.most_common(8): print(f"  {pct(n, tot)}  {c}")
print("== libc samples by caller component")
for c, n in libc_by_caller.most_common(8): print(f"  {pct(n, tot)}  {c}")
print("\n== top kernel leaf symbols (non-idle processes), share of all samples")
for (idle, s), n in ksym.most_common(40):
    if not idle: print(f"  {pct(n, tot)}  {s}")
print("\n== top user symbols (all processes), share of all samples")
for (c, s), n in usersym.most_common(45):
    print(f"  {pct(n, tot)}  [{c}] {s[:150]}")
import pickle
pickle.dump([(names.get(str(pid), str(pid)), comm, frames) for pid, comm, frames, raw in samples], open(data + ".pkl", "wb"))
json.dump(dict(self_agg=aggs2, final_agg=aggf, final_per_node={p: {c: final[(p, c)] for c in aggf} for p in nodes}, byproc_counts=dict(byproc), charged_agg=aggc, charged_per_node={p: {c: n for (pp, c), n in charged.items() if pp == p} for p in nodes}, coreclr_by_caller=coreclr_by_caller, total=tot, byproc=byproc, nodesum=nodesum, agg=agg, aggs=aggs,
               per_node={p: {c: n for (pp, c), n in combined.items() if pp == p} for p in nodes}),
          open(data + ".json", "w"), indent=1)
