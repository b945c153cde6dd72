import pickle, re, sys, collections, os
sys.path.insert(0, os.path.dirname(__file__))
S = pickle.load(open(sys.argv[1], "rb")); rx = re.compile(sys.argv[2])
nodes = [s for s in S if s[0] in ("n1", "n2", "n3")]; c = collections.Counter(); n = 0
def leafname(fr):
    s, d = fr[0]
    if d == "jit": return re.sub(r"\[(OptimizedTier1|QuickJitted|Optimized|Tier\w*)\]$", "", re.sub(r"^.*?\] ", "", s))[:120]
    return f"{s} ({os.path.basename(d)})"
for nn, comm, fr in nodes:
    if any(f[1] == "jit" and rx.search(f[0]) for f in fr):
        n += 1
        # first managed frame below the match (callee side) that is not generic
        c[leafname(fr)] += 1
print(f"{100*n/len(nodes):.1f}% inclusive; top leaves:")
for k, v in c.most_common(int(sys.argv[3]) if len(sys.argv) > 3 else 15): print(f"  {100*v/len(nodes):5.2f}%  {k}")
