#!/usr/bin/env python3
"""subsystems.py perf.data.pkl: partition node samples by the subsystem on whose behalf they ran (inclusive, first match wins)."""
import pickle, re, sys, collections
S = pickle.load(open(sys.argv[1], "rb"))
nodes = [s for s in S if s[0] in ("n1", "n2", "n3")]
RULES = [
    ("journal write path: Akka.Persistence.Sql + linq2db + Microsoft.Data.Sqlite + SQLite + file I/O", lambda fr, m, k: re.search(r"Akka\.Persistence\.Sql|LinqToDB|Microsoft\.Data\.Sqlite|SQLitePCL|Akka\.Persistence\.Journal|Akka\.Streams", m) or any("e_sqlite3" in f[1] for f in fr) or re.search(r"(^| )(__x64_sys_(fsync|pwrite64|pread64|fcntl)|do_fsync|ksys_pwrite64|blk_done_softirq|ext4_end_bio)( |$)", k)),
    ("RESP front end (AkkaKv.Resp, client sockets)", lambda fr, m, k: "AkkaKv.Resp." in m),
    ("remoting: Akka.Remote + DotNetty + TCP", lambda fr, m, k: re.search(r"Akka\.Remote|DotNetty", m) or (not m and re.search(r"tcp_|__sys_sendmsg|__sys_recvfrom|__sys_sendto|net_rx_action|epoll", k))),
    ("replica actor: Akka.Persistence persistent actor + ReplicaActor/ReplicaState", lambda fr, m, k: re.search(r"Akka\.Persistence\.|AkkaKv\.Replica\.", m)),
    ("gateway + coordinators (GatewayActor, Put/GetCoordinator, their creation, Ask)", lambda fr, m, k: re.search(r"AkkaKv\.Coordination\.|PromiseActorRef|FutureActorRef|LocalActorRefProvider::ActorOf", m)),
    ("cluster sharding routing", lambda fr, m, k: "Akka.Cluster.Sharding" in m),
    ("other Akka (cluster gossip/heartbeats, ddata, scheduler, dispatch w/o owner)", lambda fr, m, k: re.search(r"\[Akka[\.\]]", m)),
    ("GC background thread / no managed frames in coreclr", lambda fr, m, k: fr and fr[0][1].endswith("libcoreclr.so")),
    ("thread wake-up / sleep / context switch with no managed frames", lambda fr, m, k: re.search(r"futex|__schedule|finish_task_switch|sched_yield", k)),
]
per = collections.Counter(s[0] for s in nodes); res = collections.Counter(); resn = collections.Counter()
for n, comm, fr in nodes:
    m = " | ".join(f[0] for f in fr if f[1] == "jit")
    k = " " + " ".join(f[0] for f in fr if f[1] == "[kernel.kallsyms]") + " "
    lab = next((l for l, f in RULES if f(fr, m, k)), "other (irq, timers, misc)")
    res[lab] += 1; resn[(n, lab)] += 1
tot = len(nodes)
for l, v in sorted(res.items(), key=lambda x: -x[1]):
    print(f"  {100*v/tot:5.1f}%  {l:95s} " + " ".join(f"{n}:{100*resn[(n, l)]/per[n]:5.1f}%" for n in sorted(per)))
