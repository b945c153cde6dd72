import pickle, re, sys, collections
S = pickle.load(open(sys.argv[1], "rb")); rx = re.compile(sys.argv[2])
nodes = [s for s in S if s[0] in ("n1", "n2", "n3")]; c = collections.Counter(); n = 0; incl = 0
for nn, comm, fr in nodes:
    idx = [i for i, f in enumerate(fr) if f[1] == "jit" and rx.search(f[0])]
    if not idx: continue
    incl += 1
    # first frame above the matched block that doesn't match
    j = idx[-1] + 1
    while j < len(fr) and (fr[j][1] != "jit" or rx.search(fr[j][0]) or fr[j][0].startswith("stub")): j += 1
    caller = re.sub(r"\[(OptimizedTier1|QuickJitted|Optimized|Tier\w*)\]$", "", re.sub(r"^.*?\] ", "", fr[j][0]))[:140] if j < len(fr) else "?"
    c[caller] += 1
print(f"inclusive {100*incl/len(nodes):.1f}% of node samples; by caller:")
for k, v in c.most_common(int(sys.argv[3]) if len(sys.argv) > 3 else 12): print(f"  {100*v/len(nodes):5.2f}%  {k}")
