"""How soon `emscan watch` tells an error after it is written.

Usage: python3 benches/watch_latency.py target/release/emscan [watch flags, e.g. --poll 100ms]

Appends 100 lines (one of them an error) every 20 ms, 200 times, to a fresh log folder while
`emscan watch --format ndjson` follows it, and times each error from its write to its event on
stdout; then the peak RSS of the watch.
"""
import subprocess, sys, time, threading, os, tempfile, json, statistics
exe, mode = sys.argv[1], sys.argv[2:]
d = tempfile.mkdtemp()
logs = os.path.join(d, "PC-1/sdkdata/easemobLog"); os.makedirs(logs)
live = os.path.join(logs, "easemob.log")
open(live, "w").write("[2024/05/06 09:00:00:000]: start\n")
p = subprocess.Popen([exe, "watch", d, "--format", "ndjson", *mode], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
while "watching" not in p.stderr.readline(): pass
arrived = {}
def reader():
    for line in p.stdout:
        ev = json.loads(line); arrived[ev["attributes"]["log.file.line"]] = time.monotonic()
threading.Thread(target=reader, daemon=True).start()
written = {}
N = 200
with open(live, "a") as f:
    for i in range(N):
        # 99 plain lines and one error line per write
        f.write("[2024/05/06 09:00:01:000]: plain line\n" * 99)
        f.write(f"[2024/05/06 09:00:01:000]: call failed, code: 2; desc: x\n"); f.flush()
        written[(i + 1) * 100 + 1] = time.monotonic()
        time.sleep(0.02)
deadline = time.time() + 10
while len(arrived) < N and time.time() < deadline: time.sleep(0.05)
hwm = [l for l in open(f"/proc/{p.pid}/status") if l.startswith("VmHWM")][0].split()[1]
p.send_signal(2); p.wait()
lat = sorted((arrived[k] - written[k]) * 1000 for k in written if k in arrived)
print(f"mode={mode or ['native']} events {len(lat)}/{N}; latency ms median {statistics.median(lat):.1f} p95 {lat[int(len(lat)*0.95)-1]:.1f} max {lat[-1]:.1f}; peak RSS {int(hwm)//1024} MiB after {N*100} lines")
