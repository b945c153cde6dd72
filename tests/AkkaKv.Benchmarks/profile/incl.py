#!/usr/bin/env python3
"""incl.py perf.data.pkl 'label=regex' ...: share of node samples (n1..n3) with a frame matching regex anywhere on the stack"""
import pickle, re, sys, collections
S = pickle.load(open(sys.argv[1], "rb"))
nodes = [s for s in S if s[0] in ("n1", "n2", "n3")]
per = collections.Counter(s[0] for s in nodes)
for arg in sys.argv[2:]:
    label, _, rx = arg.partition("=")
    r = re.compile(rx)
    hit = collections.Counter(s[0] for s in nodes if any(r.search(f[0]) for f in s[2]))
    print(f"  {100*sum(hit.values())/len(nodes):5.1f}%  {label:55s} " + " ".join(f"{n}:{100*hit[n]/per[n]:4.1f}%" for n in sorted(per)))
