import collections, re, subprocess, sys
out = subprocess.run(["perf", "script", "-i", sys.argv[1], "-F", "comm,pid,tid,ip,sym,dso"], capture_output=True, text=True, errors="replace").stdout
pids = set(sys.argv[2:]); c = collections.Counter(); n = 0
for block in out.split("\n\n"):
    lines = block.strip("\n").split("\n")
    m = re.match(r"^(.*?)\s+(\d+)/(\d+)", lines[0]) if lines else None
    if not m or m.group(2) not in pids: continue
    n += 1
    ks = [re.sub(r"\.isra\.\d+|\.constprop\.\d+", "", l.split()[1]) for l in lines[1:] if "kernel.kallsyms" in l]
    if not ks or any(re.match(r"__(x64|se)_sys_", k) for k in ks): continue
    key = " <- ".join(k for k in ks if not k.startswith(("_raw_spin", "asm_", "sysvec_", "irq_exit", "__irq_exit", "irqentry", "instr_")))[:200]
    c[key] += 1
tot = sum(c.values()); print(f"{tot} kernel samples not under a syscall, {100*tot/n:.1f}% of node samples")
for k, v in c.most_common(25): print(f"  {100*v/n:5.2f}%  {k}")
