import pickle, re, sys, collections
S = pickle.load(open(sys.argv[1], "rb"))
nodes = [s for s in S if s[0] in ("n1", "n2", "n3")]
J = re.compile(r"Akka\.Persistence\.Sql|LinqToDB|Microsoft\.Data\.Sqlite|SQLitePCL|Akka\.Persistence\.Journal|Akka\.Streams")
IO = ("__x64_sys_fsync", "__x64_sys_pwrite64", "__x64_sys_pread64", "__x64_sys_fcntl", "blk_done_softirq", "ext4_end_bio", "do_fsync", "ksys_pwrite64")
c = collections.Counter(); per = collections.Counter(s[0] for s in nodes); hit = collections.Counter()
for n, comm, fr in nodes:
    managed = any(J.search(f[0]) for f in fr if f[1] == "jit")
    native = any("e_sqlite3" in f[1] for f in fr)
    kio = any(f[0] in IO or f[0].startswith(IO) for f in fr if f[1] == "[kernel.kallsyms]")
    k = "managed journal code on stack" if managed else ("SQLite native (no managed frames)" if native else ("kernel file I/O (no managed frames)" if kio else None))
    if k: c[k] += 1; hit[n] += 1
tot = len(nodes)
for k, v in c.most_common(): print(f"  {100*v/tot:5.1f}%  {k}")
print(f"  {100*sum(c.values())/tot:5.1f}%  TOTAL journal/SQLite write path  " + " ".join(f"{n}:{100*hit[n]/per[n]:.1f}%" for n in sorted(per)))
