import json, sys, pickle, re, collections, subprocess
def shares(files, key):
    acc = collections.Counter(); tot = 0
    for f in files:
        j = json.load(open(f + ".data.json"))
        for k, v in j[key].items(): acc[k] += v / j["nodesum"]
    return {k: v / len(files) for k, v in acc.items()}
for label, files, cpu in (("SET", ["set/perf-all", "set3/perf-all2"], 2.1), ("GET", ["get/perf-all", "get/perf-all2"], 0.275), ("SET during snapshot wave", ["set2/perf-all2"], 2.75)):
    f = shares(files, "final_agg"); s = shares(files, "self_agg")
    print(f"\n### {label}: {cpu} ms CPU per op (all nodes)")
    print("| component | charged: share | charged: ms/op | self: share | self: ms/op |\n|---|---:|---:|---:|---:|")
    keys = sorted(set(f) | set(s), key=lambda k: -f.get(k, 0))
    for k in keys:
        print(f"| {k} | {100*f.get(k,0):.1f}% | {cpu*f.get(k,0):.3f} | {100*s.get(k,0):.1f}% | {cpu*s.get(k,0):.3f} |")
