import sys, statistics, collections, subprocess
out = subprocess.run(["perf", "script", "-i", sys.argv[1], "-F", "tid,time,event"], capture_output=True, text=True).stdout
start = {}; lat = []; n_enter = 0; pw_between = []; cur = 0; th = collections.Counter(); t0 = t1 = None
for l in out.splitlines():
    p = l.split()
    if len(p) < 3: continue
    tid, t, ev = p[0], float(p[1].rstrip(':')), p[2]
    t0 = t0 or t; t1 = t
    if 'enter_pwrite' in ev: cur += 1
    elif 'enter_fsync' in ev: start[tid] = t; n_enter += 1; pw_between.append(cur); cur = 0; th[tid] += 1
    elif 'exit_fsync' in ev and tid in start: lat.append(t - start.pop(tid))
q = statistics.quantiles(lat, n=100); dt = t1 - t0
print(f'{sys.argv[1]}: fsync calls {n_enter} in {dt:.1f} s ({n_enter/dt:.0f}/s); latency mean {1e6*statistics.mean(lat):.0f} us p50 {1e6*q[49]:.0f} p90 {1e6*q[89]:.0f} p99 {1e6*q[98]:.0f} max {1e6*max(lat):.0f}; total fsync wall {sum(lat)/dt*1000:.0f} ms/s; pwrites per fsync mean {statistics.mean(pw_between):.1f} median {statistics.median(pw_between)}; threads calling fsync: {len(th)} {th.most_common(4)}')
