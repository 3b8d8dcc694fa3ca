#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The timing loop of systemd-guest.sh (which sets the stage and runs this in a
private mount namespace with cgroup2 at /sys/fs/cgroup). Boots the same Debian
root with systemd as PID 1 under berth, crun and systemd-nspawn in turn, and
times each from the command's start until READY=1 (systemd's boot finished)
reaches a socket of ours; then sums the PSS of every process of the guest (and
of its monitor: berth's, nspawn itself; crun leaves none) and shuts it down.

    systemd-guest.py BERTH TMP RUNS WARMUP
"""
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time

BERTH, TMP, RUNS, WARMUP = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
CG = "/sys/fs/cgroup"
READY_TIMEOUT = 60
SIGRTMIN3 = signal.SIGRTMIN + 3
MONITOR_KB = []  # berth's monitor alone, every round


def listener(name):
    d = os.path.join(TMP, name + "-notify")
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o755)
    path = os.path.join(d, "notify")
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    os.chmod(path, 0o666)
    s.settimeout(READY_TIMEOUT)
    return s, path


def wait_ready(s, t0):
    deadline = t0 + READY_TIMEOUT
    while True:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        msg = s.recv(4096).decode(errors="replace")
        if "READY=1" in msg.split("\n"):
            return (time.monotonic() - t0) * 1000


def cg_pids(path):
    pids = []
    for d, _, _ in os.walk(path):
        try:
            with open(os.path.join(d, "cgroup.procs")) as f:
                pids += [int(x) for x in f.read().split()]
        except FileNotFoundError:
            pass
    return pids


def pss_kb(pids):
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, **kw)


class Berth:
    name = "berth"

    def __init__(self):
        self.sock, self.path = listener("berth")
        self.inst = "bench-%d" % os.getpid()
        # --net none: loopback only, like crun's bundle (berth's default would add a veth).
        run([BERTH, "--root", TMP + "/berth", "create", self.inst, "--template", "bookworm",
             "--net", "none"])

    def boot(self):
        # The monitor passes the guest's READY=1 on to its own NOTIFY_SOCKET (host_notify).
        t0 = time.monotonic()
        run([BERTH, "--root", TMP + "/berth", "start", self.inst],
            env=dict(os.environ, NOTIFY_SOCKET=self.path))
        return wait_ready(self.sock, t0)

    def pss(self):
        with open(f"{TMP}/berth/run/{self.inst}/state.json") as f:
            st = json.load(f)
        MONITOR_KB.append(pss_kb([st["monitor_pid"]]))
        return pss_kb(cg_pids(f"{CG}/{st['cgroup']}") + [st["monitor_pid"]])

    def stop(self):
        run([BERTH, "--root", TMP + "/berth", "stop", self.inst])

    def close(self):
        subprocess.run([BERTH, "--root", TMP + "/berth", "delete", "--force", self.inst],
                       stdout=subprocess.DEVNULL)


class Crun:
    name = "crun"

    def __init__(self):
        self.sock, self.path = listener("crun")
        self.id = "berth-bench-sd-%d" % os.getpid()
        self.bundle = TMP + "/crun-bundle"

    def boot(self):
        t0 = time.monotonic()
        run(["crun", "--root", TMP + "/crun", "run", "-d", "--bundle", self.bundle, self.id],
            stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return wait_ready(self.sock, t0)

    def cgroup(self):
        out = subprocess.run(["crun", "--root", TMP + "/crun", "state", self.id],
                             capture_output=True, text=True, check=True).stdout
        pid = json.loads(out)["pid"]
        with open(f"/proc/{pid}/cgroup") as f:
            rel = f.read().strip().split("::")[-1]
        # init moved itself into init.scope: its container's cgroup is the parent.
        return CG + rel.rsplit("/init.scope", 1)[0]

    def pss(self):
        return pss_kb(cg_pids(self.cgroup()))

    def stop(self):
        run(["crun", "--root", TMP + "/crun", "kill", self.id, str(int(SIGRTMIN3))])
        for _ in range(600):
            out = subprocess.run(["crun", "--root", TMP + "/crun", "state", self.id],
                                 capture_output=True, text=True).stdout
            if not out or json.loads(out)["status"] == "stopped":
                break
            time.sleep(0.05)
        run(["crun", "--root", TMP + "/crun", "delete", "-f", self.id])

    def close(self):
        subprocess.run(["crun", "--root", TMP + "/crun", "delete", "-f", self.id],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Nspawn:
    name = "nspawn"

    def __init__(self):
        self.sock, self.path = listener("nspawn")
        self.cg = f"{CG}/berth-bench-nspawn-{os.getpid()}"
        self.proc = None

    def boot(self):
        os.makedirs(self.cg, exist_ok=True)

        def enter():
            with open(self.cg + "/cgroup.procs", "w") as f:
                f.write("0")

        t0 = time.monotonic()
        self.proc = subprocess.Popen(
            ["systemd-nspawn", "-q", "--register=no", "--keep-unit", "--notify-ready=yes",
             "-D", TMP + "/nspawn-root", "-b", "--console=read-only"],
            env=dict(os.environ, NOTIFY_SOCKET=self.path), preexec_fn=enter,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return wait_ready(self.sock, t0)

    def pss(self):
        return pss_kb(cg_pids(self.cg))

    def stop(self):
        # nspawn turns SIGTERM into SIGRTMIN+3 for the container's systemd.
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if os.path.isdir(self.cg):
            try:
                with open(self.cg + "/cgroup.kill", "w") as f:
                    f.write("1")
            except OSError:
                pass
            time.sleep(0.2)
            for d, _, _ in sorted(os.walk(self.cg), key=lambda x: -len(x[0])):
                try:
                    os.rmdir(d)
                except OSError:
                    pass


def main():
    tools = [Berth(), Crun(), Nspawn()]
    times = {t.name: [] for t in tools}
    mem = {t.name: [] for t in tools}
    try:
        for r in range(WARMUP + RUNS):
            order = tools[r % 3:] + tools[:r % 3]  # rotate, so no one always goes first
            for t in order:
                ms = t.boot()
                time.sleep(0.5)  # let the boot's last jobs end before measuring memory
                kb = t.pss()
                t.stop()
                if r >= WARMUP:
                    times[t.name].append(ms)
                    mem[t.name].append(kb)
            print(f"round {r + 1}/{WARMUP + RUNS}" + (" (warm-up)" if r < WARMUP else "") + ": " +
                  ", ".join(f"{t.name} {times[t.name][-1]:.0f} ms" if r >= WARMUP else t.name
                            for t in tools), flush=True)
    finally:
        for t in tools:
            t.close()
    med = {k: statistics.median(v) for k, v in times.items()}
    pss = {k: statistics.median(v) / 1024 for k, v in mem.items()}
    print()
    print("| runtime | median start to READY=1 | ratio to crun | median PSS (guest + monitor) |")
    print("| --- | --- | --- | --- |")
    for k in times:
        print(f"| {k} | {med[k]:.0f} ms | {med[k] / med['crun']:.2f} | {pss[k]:.1f} MB |")
    print()
    print(f"berth/crun time: {med['berth'] / med['crun']:.2f} (goal <= 0.8); "
          f"berth PSS {pss['berth']:.1f} MB (goal <= 6 MB), of which its monitor "
          f"{statistics.median(MONITOR_KB[WARMUP:]) / 1024:.2f} MB")


main()
