"""Deploy/bench/testbedlib.py — what the scale benchmarks (memory, export, reflector) share:
reading processes of one testbed host, z2z status, avahi-browse logs, mDNS counters.

Processes of all testbed hosts share one PID namespace, so a host's processes are found
through its network namespace (`ip netns pids NAME-HOST`), never by name alone.
"""
import json, os, subprocess

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TESTBED = os.path.join(REPO, "Deploy", "testbed")


def rss_mib(pid):
    """Resident set size of a process, MiB (nan when it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except (OSError, TypeError):
        pass
    return float("nan")


def cpu_seconds(pid):
    """User plus system time of a process so far (nan when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, TypeError):
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pid_of(name, host, program):
    """The newest `program` running in the host's own network namespace."""
    out = subprocess.run(["ip", "netns", "pids", f"{name}-{host}"], capture_output=True, text=True).stdout.split()
    found = []
    for pid in out:
        try:
            with open(f"/proc/{pid}/comm") as comm:
                if comm.read().strip() == program[:15]:
                    found.append(int(pid))
        except OSError:
            pass
    return max(found) if found else None


def status(name, host, z2z):
    """`z2z status --json` on a host, decoded; None when it does not answer."""
    out = subprocess.run([TESTBED, "exec", name, host, "--", z2z, "status", "--json"], capture_output=True, text=True)
    try:
        return json.loads(out.stdout)
    except json.JSONDecodeError:
        return None


def browsed(path, type_prefix):
    """Distinct services (name, type) of types starting with `type_prefix` that
    `avahi-browse -apk` (logged to `path`) has listed as added and not removed."""
    seen = set()
    try:
        with open(path, errors="replace") as log:
            for line in log:
                fields = line.rstrip("\n").split(";")
                if len(fields) >= 5 and fields[0] in "+-" and fields[4].startswith(type_prefix):
                    (seen.add if fields[0] == "+" else seen.discard)((fields[3], fields[4]))
    except FileNotFoundError:
        pass
    return len(seen)


def count_mdns(name, host, interfaces=("eth0", "eth1")):
    """Counts the mDNS datagrams `host` sends from now on, per interface (nftables counters
    inside its namespace; they go with the namespace)."""
    script = ("add table inet z2zbench\n"
              "add chain inet z2zbench out { type filter hook output priority 0 ; }\n"
              + "".join(f'add rule inet z2zbench out oifname "{i}" udp dport 5353 counter comment "{i}"\n'
                        for i in interfaces))
    subprocess.run(["ip", "netns", "exec", f"{name}-{host}", "nft", "-f", "-"], input=script, text=True, check=True)


def mdns_sent(name, host, interface="eth0"):
    """(datagrams, bytes) of mDNS `host` sent on `interface` since `count_mdns`."""
    out = subprocess.run(["ip", "netns", "exec", f"{name}-{host}", "nft", "list", "chain", "inet", "z2zbench", "out"],
                         capture_output=True, text=True).stdout
    for line in out.splitlines():
        if "counter packets" in line and f'"{interface}"' in line.split("counter")[0]:
            words = line.split()
            return int(words[words.index("packets") + 1]), int(words[words.index("bytes") + 1])
    return 0, 0
