#!/usr/bin/python3
"""SFTP and ProxyJump throughput: Gatehouse against OpenSSH, on loopback only.

Measures, in one run (default 1 GiB, median of --runs):
  1. sftp upload   `sftp -b - HOST` with `put PAYLOAD DIR/up.bin`
       direct     sftp to the target sshd (internal-sftp)
       gatehouse  sftp to alice@ghbench@web01 through Gatehouse (the SFTP-aware
                  relay: every OPEN checked, file events audited)
  2. sftp download `get PAYLOAD DIR/dl.bin`, the same two paths;
  3. ProxyJump `cat PAYLOAD` (recorded):
       nested     ssh bastion ssh target cat PAYLOAD (OpenSSH, the fair peer)
       gatehouse  ssh -J alice@gatehouse ghbench@target cat PAYLOAD
     When `ssh -J` through this Gatehouse build does not work, that row prints
     "n/a (ProxyJump not available)" and the rest is still reported.

Files land in a tmpfs directory (/dev/shm) so the disk is not what is measured.
Reuses bench/ssh_bench.py's setup (sshd target and bastion, test account
ghbench, Gatehouse set up through its CLI). Must run as root. Every loop is
bounded; every process started here is stopped by PID on exit.
"""
import argparse
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ssh_bench as sb  # noqa: E402

TARGET_RATIO = 0.9
JUMP_NA = "n/a (ProxyJump not available)"


def log(msg):
    print(f"[sftp-bench] {msg}", file=sys.stderr, flush=True)


class SftpBench(sb.Bench):
    def __init__(self, args):
        super().__init__(args)
        # sftp needs upload/download; ProxyJump may need forward: grant everything
        self.perm_extra = ["--actions", "all", "--protocols", "all"]
        self.shm = None
        self.jump_reason = None

    def setup(self):
        super().setup()
        pw = self.ensure_user()
        self.shm = tempfile.mkdtemp(prefix="ghbench-sftp-", dir="/dev/shm")
        os.chown(self.shm, pw.pw_uid, pw.pw_gid)
        os.chmod(self.shm, 0o755)
        # ProxyJump through Gatehouse: the outer hop is alice's login, the inner
        # one names the target by address and port (an asset's address), as
        # the account ghbench, with alice's key (the jump host authenticates it).
        with open(self.cfg, "a") as f:
            f.write(f"""
Host ghjump-front
  HostName 127.0.0.1
  Port {self.ports['gatehouse']}
  User alice
  IdentityFile {self.alice_key}
  IdentitiesOnly yes
  BatchMode yes
  StrictHostKeyChecking no
  UserKnownHostsFile {self.tmp}/known_hosts
  LogLevel ERROR
  ControlMaster no
  ControlPath none

Host ghjump
  HostName 127.0.0.1
  Port {self.ports['target']}
  User {sb.BENCH_USER}
  ProxyJump ghjump-front
  IdentityFile {self.alice_key}
  IdentitiesOnly yes
  BatchMode yes
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
  LogLevel ERROR
  Compression no
  ControlMaster no
  ControlPath none
""")

    # ------------------------------------------------------------------ sftp
    def sftp_cmd(self, leg):
        host = {"direct": "target", "gatehouse": "gatehouse"}[leg]
        return ["sftp", "-F", self.cfg, "-b", "-", host]

    def sftp(self, leg, batch, timeout):
        p = subprocess.run(self.sftp_cmd(leg), input=batch.encode(), capture_output=True,
                           timeout=timeout)
        if p.returncode != 0:
            err = p.stderr.decode("utf-8", "replace").strip().splitlines()
            raise sb.Unavailable(f"sftp exit {p.returncode}: {err[-1] if err else ''}")

    def sftp_probe(self, leg):
        dl = os.path.join(self.shm, f"probe-{leg}.bin")
        try:
            self.sftp(leg, f"get {self.small} {dl}\n", 60)
            with open(dl, "rb") as f:
                if hashlib.sha256(f.read()).hexdigest() != self.small_sha:
                    raise sb.Unavailable("probe: downloaded bytes differ")
        except subprocess.TimeoutExpired:
            raise sb.Unavailable("probe timed out after 60 s")
        finally:
            if os.path.exists(dl):
                os.unlink(dl)

    def transfer(self, leg, direction, limit):
        up = os.path.join(self.shm, "up.bin")
        dl = os.path.join(self.shm, "dl.bin")
        batch = (f"put {self.payload} {up}\n" if direction == "upload"
                 else f"get {self.payload} {dl}\n")
        t0 = time.perf_counter()
        try:
            self.sftp(leg, batch, limit)
        except subprocess.TimeoutExpired:
            raise sb.Unavailable(f"timed out after {limit:.0f} s")
        dt = time.perf_counter() - t0
        path = up if direction == "upload" else dl
        size = os.path.getsize(path) if os.path.exists(path) else -1
        for x in (up, dl):
            if os.path.exists(x):
                os.unlink(x)
        if size != self.args.size:
            raise sb.Unavailable(f"{direction}: {size} bytes arrived, not {self.args.size}")
        return dt

    # ------------------------------------------------------------ ProxyJump
    def jump_cmd(self, leg, remote):
        if leg == "nested":
            return self.ssh("nested", remote)
        return ["ssh", "-F", self.cfg, "ghjump", remote]

    def jump_probe(self):
        try:
            p = subprocess.run(self.jump_cmd("gatehouse", f"cat {self.small}"), capture_output=True,
                               timeout=60, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return "probe timed out after 60 s"
        if p.returncode != 0 or hashlib.sha256(p.stdout).hexdigest() != self.small_sha:
            err = p.stderr.decode("utf-8", "replace").strip().splitlines()
            return f"exit {p.returncode}: {err[-1] if err else 'content differs'}"
        return None

    def jump_run(self, leg, limit):
        t0 = time.perf_counter()
        try:
            p = subprocess.run(self.jump_cmd(leg, f"cat {self.payload}"), stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=limit)
        except subprocess.TimeoutExpired:
            raise sb.Unavailable(f"timed out after {limit:.0f} s")
        if p.returncode != 0:
            raise sb.Unavailable(f"exit {p.returncode}: "
                                 f"{p.stderr.decode('utf-8', 'replace').strip()[-200:]}")
        return time.perf_counter() - t0

    # -------------------------------------------------------------- CPU cost
    def gh_cpu(self):
        """CPU seconds used so far by Gatehouse's master and the workers it
        reaped (utime + stime + cutime + cstime)."""
        for name, p in self.procs:
            if name == "gatehouse":
                try:
                    with open(f"/proc/{p.pid}/stat") as f:
                        v = f.read().rsplit(")", 1)[1].split()
                    return sum(int(x) for x in v[11:15]) / os.sysconf("SC_CLK_TCK")
                except (OSError, ValueError):
                    return None
        return None

    # ------------------------------------------------------------------ run
    def run(self):
        a = self.args
        self.setup()
        res = {"params": {"size_bytes": a.size, "payload": a.payload, "runs": a.runs},
               "machine": {"cpus": os.cpu_count(), "cpu": sb.cpu_model()},
               "versions": sb.versions(a.gatehouse)}
        rows = {("sftp upload", "direct"): "upload", ("sftp upload", "gatehouse"): "upload",
                ("sftp download", "direct"): "download", ("sftp download", "gatehouse"): "download"}
        failed = {}
        if self.gh_reason:
            for key in rows:
                if key[1] == "gatehouse":
                    failed[key] = self.gh_reason
        for leg in ("direct", "gatehouse"):
            if leg == "gatehouse" and self.gh_reason:
                continue
            try:
                self.sftp_probe(leg)
            except sb.Unavailable as e:
                if leg == "direct":
                    raise RuntimeError(f"direct sftp does not work: {e}")
                for key in rows:
                    if key[1] == "gatehouse":
                        failed[key] = str(e)
        jump_rows = [("proxyjump", "nested"), ("proxyjump", "gatehouse")]
        if self.gh_reason:
            self.jump_reason = self.gh_reason
        else:
            self.jump_reason = self.jump_probe()
        if self.jump_reason:
            log(f"ProxyJump through gatehouse: not available ({self.jump_reason})")
            failed[("proxyjump", "gatehouse")] = JUMP_NA
        if a.skip_jump:
            jump_rows = []
        times = {k: [] for k in list(rows) + jump_rows}
        cpu = {k: [] for k in times}
        limit = 60 + a.size / (2 << 20)
        for r in range(a.runs):
            for key in times:
                if key in failed:
                    continue
                c0 = self.gh_cpu() if key[1] == "gatehouse" else None
                try:
                    if key[0] == "proxyjump":
                        dt = self.jump_run(key[1], limit)
                    else:
                        dt = self.transfer(key[1], rows[key], limit)
                except sb.Unavailable as e:
                    if key[1] != "gatehouse":
                        raise RuntimeError(f"{key[0]} {key[1]} failed: {e}")
                    failed[key] = str(e)
                    continue
                times[key].append(dt)
                if c0 is not None:
                    time.sleep(0.3)  # the worker is reaped after the client exits
                    c1 = self.gh_cpu()
                    if c1 is not None:
                        cpu[key].append((c1 - c0) / (a.size / 1e9))
                log(f"{key[0]:13s} {key[1]:9s} run {r + 1}: {a.size / dt / 1e6:8.1f} MB/s "
                    f"({dt:.2f} s)")
        out = {}
        for key, v in times.items():
            name = f"{key[0]}/{key[1]}"
            if key in failed:
                out[name] = {"available": False, "reason": failed[key]}
            else:
                m = sb.median(v)
                out[name] = {"available": True, "seconds": v, "median_seconds": m,
                             "median_mbps": a.size / m / 1e6}
                if cpu[key]:
                    out[name]["gatehouse_cpu_s_per_gb"] = sb.median(cpu[key])
        res["throughput"] = out
        res["target_ratio_min"] = TARGET_RATIO
        return res

    def cleanup(self):
        super().cleanup()
        if self.shm:
            shutil.rmtree(self.shm, ignore_errors=True)


def print_report(res):
    p = res["params"]
    tp = res["throughput"]
    print()
    print(f"SFTP and ProxyJump throughput, loopback — {res['machine']['cpus']} CPUs "
          f"({res['machine']['cpu']})")
    print(f"payload {p['size_bytes'] / (1 << 20):.0f} MiB ({p['payload']}), median of {p['runs']} runs, "
          f"MB = 10^6 bytes")
    print()
    print(f"{'':16s}{'OpenSSH':>22s}{'gatehouse':>14s}{'ratio':>9s}   target")

    def cell(name):
        e = tp.get(name)
        if not e:
            return None, "-"
        if not e["available"]:
            return None, "n/a"
        return e["median_mbps"], f"{e['median_mbps']:.1f} MB/s"

    lines = [("sftp upload", "direct sftp", "sftp upload/direct", "sftp upload/gatehouse"),
             ("sftp download", "direct sftp", "sftp download/direct", "sftp download/gatehouse"),
             ("ProxyJump", "nested ssh", "proxyjump/nested", "proxyjump/gatehouse")]
    ratios = {}
    for title, peer, a, b in lines:
        if a not in tp:
            continue
        va, ta = cell(a)
        vb, tb = cell(b)
        g = tp.get(b, {})
        if not g.get("available") and g.get("reason") == JUMP_NA:
            print(f"{title:16s}{peer + ' ' + ta:>22s}   {JUMP_NA}")
            continue
        if va and vb:
            r = vb / va
            ratios[title] = r
            verdict = "MET" if r >= res["target_ratio_min"] else "MISSED"
            print(f"{title:16s}{peer + ' ' + ta:>22s}{tb:>14s}{r:>8.2f}x   "
                  f">= {res['target_ratio_min']:.1f}x {verdict}")
        else:
            print(f"{title:16s}{peer + ' ' + ta:>22s}{tb:>14s}{'-':>9s}")
    for name, e in tp.items():
        if e.get("gatehouse_cpu_s_per_gb") is not None:
            print(f"  {name}: Gatehouse CPU {e['gatehouse_cpu_s_per_gb']:.2f} s per GB "
                  f"(master and workers, median)")
    for name, e in tp.items():
        if not e["available"] and e["reason"] != JUMP_NA:
            print(f"  {name}: not available ({e['reason']})")
    res["ratios"] = ratios
    print()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gatehouse", default="build/gatehouse", help="gatehouse binary")
    ap.add_argument("--size", type=sb.parse_size, default=1 << 30,
                    help="file size (default 1G; e.g. 256M)")
    ap.add_argument("--payload", choices=["random", "text"], default="random",
                    help="random bytes (default) or base64 text lines")
    ap.add_argument("--runs", type=int, default=3, help="runs per path (default 3, at most 20)")
    ap.add_argument("--skip-jump", action="store_true", help="no ProxyJump row")
    ap.add_argument("--json", default=None, help="also write the results as JSON to this file")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (logs)")
    args = ap.parse_args()
    if not 1 <= args.runs <= 20:
        ap.error("--runs must be between 1 and 20")
    args.cipher = args.kex = None

    def on_signal(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    bench = SftpBench(args)
    try:
        res = bench.run()
    except RuntimeError as e:
        print(f"sftp-bench: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("sftp-bench: interrupted", file=sys.stderr)
        return 130
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        bench.cleanup()
    print_report(res)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=2)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
