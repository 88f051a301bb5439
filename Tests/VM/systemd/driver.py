#!/usr/bin/env python3
"""The systemd guest scenario of the VM tier (issue: persistence), driven from the host.

QEMU boots a Debian bookworm root (systemd as PID 1, udev, the bpstune .deb installed) from a
virtio disk, with an igb NIC and a PCIe root port for a second one. A test agent in the guest
answers commands on the second serial port; QEMU's monitor hot-adds the NIC. Every value is
read in the guest with independent tools (Tests/VM/systemd/vmcheck: cat, ethtool, chrt,
taskset, napi-dump), never with bpstune. Prints "ok   NAME [s]" or "FAIL NAME: why" per step.

usage: driver.py WORK VMLINUZ INITRD DISK
"""
import base64
import os
import re
import socket
import subprocess
import sys
import time

WORK, VMLINUZ, INITRD, DISK = sys.argv[1:5]
# Two vCPUs: on this 2-core host, four TCG vCPUs make every RCU grace period of a NIC reset
# wait for descheduled vCPUs, and a driver reload of two igbs took 12 s instead of 5-8.
CPUS = os.environ.get("BPSTUNE_SYSTEMD_VM_CPUS", "2")
PROFILE = "persist-threaded -i 'en*' --set irq-cpus=1 --set poll-cpu=1 --set housekeeping-cpus=0-1 --skip-unsupported"
results = []


class Guest:
    def __init__(self):
        self.agent_path = WORK + "/agent.sock"
        self.monitor_path = WORK + "/monitor.sock"
        self.console = WORK + "/console.log"
        self.log = open(WORK + "/qemu.log", "w")
        self.proc = subprocess.Popen(
            ["qemu-system-x86_64", "-machine", "q35", "-accel", "tcg", "-cpu", "max", "-m", "1536", "-smp", CPUS,
             "-display", "none", "-kernel", VMLINUZ, "-initrd", INITRD,
             "-append", "root=/dev/vda rw console=ttyS0 panic=-1 quiet loglevel=3",
             "-drive", f"file={DISK},if=virtio,format=raw",
             "-netdev", "user,id=n0", "-device", "igb,netdev=n0,id=nic1",
             "-device", "pcie-root-port,id=rp1,chassis=1,slot=1",
             "-serial", f"file:{self.console}",
             "-chardev", f"socket,id=agent,path={self.agent_path},server=on,wait=off", "-serial", "chardev:agent",
             "-monitor", f"unix:{self.monitor_path},server,nowait"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        self.sock = None
        self.buffer = b""
        deadline = time.time() + 30
        while self.sock is None:
            try:
                s = socket.socket(socket.AF_UNIX)
                s.connect(self.agent_path)
                self.sock = s
            except OSError:
                if time.time() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("QEMU did not start: " + open(WORK + "/qemu.log").read()[-500:])
                time.sleep(0.2)

    def line(self, timeout):
        deadline = time.time() + timeout
        while b"\n" not in self.buffer:
            remaining = deadline - time.time()
            if remaining <= 0 or self.proc.poll() is not None:
                raise TimeoutError(f"no answer from the guest agent within {timeout} s")
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                raise TimeoutError("the agent's socket closed")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode(errors="replace").strip("\r\x00 ")

    def ready(self, timeout=300):
        """Waits for the agent's READY line; returns the guest's boot id."""
        deadline = time.time() + timeout
        while True:
            line = self.line(max(1, deadline - time.time()))
            if line.startswith("READY "):
                return line.split()[1]

    def run(self, script, timeout=180):
        self.sock.sendall(b"CMD " + base64.b64encode(script.encode()) + b"\n")
        while True:
            line = self.line(timeout)
            if line.startswith("RESULT "):
                parts = line.split(" ", 2)
                out = base64.b64decode(parts[2]).decode(errors="replace") if len(parts) > 2 else ""
                return int(parts[1]), out

    def ok(self, script, timeout=180):
        status, out = self.run(script, timeout)
        if status != 0:
            raise AssertionError(f"`{script}` exited {status}: {out.strip()[-600:]}")
        return out

    def monitor(self, command):
        s = socket.socket(socket.AF_UNIX)
        s.connect(self.monitor_path)
        s.settimeout(10)
        data = b""
        while b"(qemu)" not in data:
            data += s.recv(4096)
        s.sendall(command.encode() + b"\n")
        data = b""
        time.sleep(1)
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk or b"(qemu)" in chunk:
                    data += chunk
                    break
                data += chunk
        except socket.timeout:
            pass
        s.close()
        return data.decode(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def step(name, function, *args):
    """Runs function(*args) as the step NAME and prints its line; False when it failed."""
    t0 = time.time()
    if results and results[-1] is None:
        print(f"FAIL systemd: {name}: not run, the guest stopped answering", flush=True)
        results.append(None)
        return False
    try:
        function(*args)
        print(f"ok   systemd: {name} [{time.time() - t0:.0f} s]", flush=True)
        results.append(True)
    except Exception as e:  # a failed step is reported and the scenario goes on where it can
        print(f"FAIL systemd: {name}: {str(e).strip()}", flush=True)
        # A guest that stopped answering (a hang) fails the steps after it at once.
        results.append(None if isinstance(e, TimeoutError) else False)
        return False
    return True


def wait_until(guest, script, seconds, what, since=None):
    """Polls `script` in the guest until it exits 0; a check that passes must have started at
    most `seconds` after `since` (default: now). Returns when that check started, in seconds
    after `since`: the state was there by then."""
    since = since or time.time()
    out = ""
    while True:
        started = time.time()
        if started - since > seconds:
            raise AssertionError(f"{what} not within {seconds} s: {out.strip()[-600:]}")
        status, out = guest.run(script)
        if status == 0:
            return started - since
        time.sleep(0.3)


def uptime(guest):
    """The guest's clock (CLOCK_MONOTONIC and /proc/uptime agree in a guest that never suspends)."""
    return float(guest.ok("cut -d' ' -f1 /proc/uptime"))


def tuned_after(guest, interface, start):
    """Seconds from the guest time `start` until bpstune-interface@IF.service first said it had
    tuned IF (its journal line, on the monotonic clock), after vmcheck confirmed the values. udev
    may start the unit again for the same device (an add, then a move when it is renamed): the
    check waits for any activation still running to end, and each must have exited 0."""
    unit = f"bpstune-interface@{interface}.service"
    wait_until(guest, f"[ \"$(systemctl show -P ActiveState {unit})\" != activating ]", 60, f"{unit} to finish")
    status = guest.ok(f"systemctl show -P ExecMainStatus {unit}").strip()
    _, journal = guest.run(f"journalctl -b -u {unit} -o short-monotonic --no-pager")
    if status != "0":
        raise AssertionError(f"{unit}: exit status {status}\n{journal[-1500:]}")
    said = re.compile(rf"^\[\s*([0-9.]+)\].*: interface {re.escape(interface)}: (applied |.*already in place)")
    times = [float(m.group(1)) for m in map(said.match, journal.splitlines()) if m and float(m.group(1)) >= start]
    if not times:
        raise AssertionError(f"{unit}: no line saying it tuned {interface} since {start:.1f} s\n{journal[-1500:]}")
    return times[0] - start


def settled(guest):
    """After a boot: udev done (interfaces renamed) and every igb brought up by networkd."""
    guest.ok("udevadm settle")
    wait_until(guest, "udevadm settle && [ -n \"$(vmcheck ifaces)\" ] && for i in $(vmcheck ifaces); do "
               "grep -q 0x1003 /sys/class/net/$i/flags || exit 1; done", 60, "every igb up")


def all_tuned(guest):
    return "for i in $(vmcheck ifaces); do vmcheck tuned $i || exit 1; done; [ -n \"$(vmcheck ifaces)\" ]"


# The steps, each a function of the guest and the facts it records for the summary (and for the
# steps after it: the boot id, the interfaces, the baseline); STEPS runs them in order.
def boot(guest, state):
    state["boot"] = guest.ready()
    settled(guest)
    ifaces = guest.ok("vmcheck ifaces").split()
    if len(ifaces) != 1:
        raise AssertionError(f"expected one igb interface, found {ifaces}")
    state["if1"] = ifaces[0]
    state["baseline"] = guest.ok(f"vmcheck state {ifaces[0]}")
    state["global"] = guest.ok("vmcheck global")
    guest.ok("systemctl is-system-running --wait || true; test \"$(cat /proc/1/comm)\" = systemd")


def security(guest, state):
    # The services the package installed (a timer runs no process of its own: not scored).
    scores = {}
    for unit in ("bpstune.service", "bpstune-interface@.service", "bpstune-drift.service"):
        out = guest.ok(f"systemd-analyze security --offline=yes --no-pager /lib/systemd/system/{unit}")
        match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", out)
        if not match:
            raise AssertionError(f"{unit}: no overall exposure level in: {out[-600:]}")
        scores[unit] = float(match.group(1))
    state["scores"] = ", ".join(f"{u} {s:.1f}" for u, s in scores.items())
    print(f"systemd: systemd-analyze security --offline=yes: {state['scores']}", flush=True)
    bad = {u: s for u, s in scores.items() if s > 4.5}
    if bad:
        raise AssertionError(f"exposure above 4.5: {bad}")
    # What the sandbox leaves the boot unit, as systemd loaded it (not only as written).
    caps = guest.ok("systemctl show -P CapabilityBoundingSet bpstune.service").split()
    if sorted(caps) != ["cap_net_admin", "cap_sys_nice"]:
        raise AssertionError(f"bpstune.service's capability bounding set: {caps}")
    guest.ok("test \"$(systemctl show -P ProtectSystem bpstune.service)\" = strict && "
             "test \"$(systemctl show -P ProtectKernelTunables bpstune.service)\" = no")


def enable(guest, state):
    out = guest.ok(f"bpstune enable {PROFILE} --no-color")
    if "enabled persist-threaded: applied" not in out:
        raise AssertionError(out)
    guest.ok(all_tuned(guest))
    guest.ok("systemctl is-enabled bpstune.service && systemctl is-enabled bpstune-drift.timer && "
             "systemctl is-active bpstune-drift.timer && test -s /etc/bpstune/enabled.toml && "
             "grep -q 'KERNEL==\"en\\*\"' /etc/udev/rules.d/80-bpstune.rules")


def reboot(guest, state):
    # The profile edited after enable (rx ring 512): the boot applies the content enabled
    # (ring 1024, which vmcheck checks), from enable's pinned copy, and says so.
    guest.ok("cp /etc/bpstune/profiles/persist-threaded.profile /root/persist-threaded.enabled && "
             "printf '\\n[interface.ring]\\nrx = 512\\n' >> /etc/bpstune/profiles/persist-threaded.profile && "
             "bpstune lint persist-threaded && test -s /etc/bpstune/enabled.profile")
    guest.sock.sendall(b"CMD " + base64.b64encode(b"systemctl reboot") + b"\n")
    boot = guest.ready()
    if boot == state["boot"]:
        raise AssertionError("the boot id did not change")
    state["boot"] = boot
    wait_until(guest, all_tuned(guest), 90, "every igb tuned after the reboot")
    i = state["if1"]
    # The values are there as soon as the unit wrote them; its summary line follows once it
    # has read them back (one CI run checked the journal in between and found nothing).
    wait_until(guest, f"journalctl -b -u bpstune-interface@{i}.service -o cat --no-pager | "
               f"grep 'interface {i}: applied'", 30, f"bpstune-interface@{i}.service's journal line")
    # The unit ran, said what it applied, and was done before network-pre.target.
    out = guest.ok("journalctl -b -u bpstune.service -o cat --no-pager")
    if "boot: applied persist-threaded" not in out:
        raise AssertionError("journal of bpstune.service: " + out)
    if "persist-threaded changed since it was enabled" not in out or \
            "using the content enabled, pinned in /etc/bpstune/enabled.profile" not in out:
        raise AssertionError("journal of bpstune.service, after the profile was edited: " + out)
    guest.ok("cp /root/persist-threaded.enabled /etc/bpstune/profiles/persist-threaded.profile && "
             "! bpstune status --no-color | grep -q 'changed since enable'")
    order = guest.ok(
        "a=$(systemctl show -P ActiveEnterTimestampMonotonic bpstune.service); "
        "b=$(systemctl show -P ActiveEnterTimestampMonotonic network-pre.target); echo $a $b; "
        "test \"$a\" -gt 0 && test \"$b\" -gt 0 && test \"$a\" -le \"$b\"")
    state["order"] = order.strip()
    # Snapshots know their boot: enable's apply is an earlier boot's now.
    boots = guest.ok("bpstune snapshots list --no-color | awk '$2 == \"apply\" { print $5 }'").split()
    if len(boots) < 2 or boots[0] == "this" or "this" not in boots[1:]:
        raise AssertionError(f"BOOT column of the applies: {boots}")
    guest.ok("journalctl -b -o short-monotonic --no-pager | grep -E 'bpstune.service|Network \\(Pre\\)' | tail -5")
    # The hardened boot unit's activation time beside systemd-sysctl's, from this boot.
    guest.run("systemctl is-system-running --wait", timeout=300)
    blame = guest.ok("systemd-analyze blame --no-pager | grep -E ' (bpstune|systemd-sysctl)\\.service$'")
    times = dict(reversed(line.split(None, 1)) for line in blame.strip().splitlines())
    if "bpstune.service" not in times or "systemd-sysctl.service" not in times:
        raise AssertionError("systemd-analyze blame: " + blame)
    state["blame"] = (f"bpstune.service {times['bpstune.service']}, "
                      f"systemd-sysctl.service {times['systemd-sysctl.service']}")
    print(f"systemd: activation (systemd-analyze blame, one boot): {state['blame']}", flush=True)


def hot_add(guest, state):
    before = set(guest.ok("vmcheck ifaces").split())
    guest.monitor("netdev_add user,id=n9")
    start = uptime(guest)
    t0 = time.time()
    answer = guest.monitor("device_add igb,netdev=n9,id=nic2,bus=rp1")
    if "Error" in answer:
        raise AssertionError("device_add: " + answer)
    wait_until(guest, "[ $(vmcheck ifaces | wc -l) -eq 2 ] && udevadm settle", 60, "the hot-added igb")
    new = set(guest.ok("vmcheck ifaces").split()) - before
    state["if2"] = new.pop()
    wait_until(guest, f"vmcheck tuned {state['if2']}", 60, f"hot-added {state['if2']} tuned", since=t0)
    taken = tuned_after(guest, state["if2"], start)
    state["hot-add"] = f"{taken:.1f} s"
    if taken > 10:
        raise AssertionError(f"{state['if2']} was tuned {taken:.1f} s after device_add")
    guest.ok(f"journalctl -b -u bpstune-interface@{state['if2']}.service -o cat --no-pager | grep -q applied")


def reload(guest, state):
    guest.ok("modprobe -r igb && ! ls /sys/bus/pci/drivers/igb/ 2>/dev/null | grep -q :")
    t0 = time.time()
    # The guest's clock read in the same command, just before modprobe starts.
    start = float(guest.ok("cut -d' ' -f1 /proc/uptime; modprobe igb").split()[0])
    wait_until(guest, "[ $(vmcheck ifaces | wc -l) -eq 2 ] && " + all_tuned(guest), 60,
               "both igb re-created and tuned", since=t0)
    times = [tuned_after(guest, i, start) for i in guest.ok("vmcheck ifaces").split()]
    state["reload"] = " and ".join(f"{t:.1f} s" for t in times)
    if max(times) > 10:
        raise AssertionError(f"re-created igb tuned {state['reload']} after modprobe igb")


def drift(guest, state):
    i = state["if1"]
    guest.ok("mkdir -p /etc/systemd/system/bpstune-drift.timer.d && printf '[Timer]\\nOnBootSec=5s\\n"
             "OnUnitActiveSec=10s\\nAccuracySec=1s\\n' > /etc/systemd/system/bpstune-drift.timer.d/test.conf && "
             "systemctl daemon-reload && systemctl restart bpstune-drift.timer")
    since = guest.ok("date +%s").strip()
    guest.ok(f"echo 0 > /sys/class/net/{i}/napi_defer_hard_irqs")
    wait_until(
        guest,
        f"grep -q '^bpstune_setting_drift{{.*interface=\"{i}\",setting=\"napi-defer-hard-irqs\"}} 1$' "
        "/var/lib/prometheus/node-exporter/bpstune.prom && "
        f"journalctl -u bpstune-drift.service --since @{since} -o cat --no-pager | "
        f"grep -q 'drift: {i} napi-defer-hard-irqs is 0'", 60, "the timer's drift report")
    # It reports; it does not re-apply.
    guest.ok(f"test $(cat /sys/class/net/{i}/napi_defer_hard_irqs) = 0")
    guest.ok("ls /var/lib/prometheus/node-exporter | grep -vx bpstune.prom | (! grep .)")


def sysctl_d(guest, state):
    guest.ok("echo 'net.core.busy_poll = 30' > /etc/sysctl.d/90-test.conf")
    status, out = guest.run("bpstune status --no-color")
    if status not in (0, 1) or "/etc/sysctl.d/90-test.conf:1 sets net.core.busy_poll = 30" not in out:
        raise AssertionError(f"status exited {status}: {out}")
    out = guest.ok(f"bpstune enable {PROFILE} --no-color 2>&1")
    if "/etc/sysctl.d/90-test.conf:1 sets net.core.busy_poll = 30" not in out:
        raise AssertionError("enable: " + out)
    guest.ok("rm /etc/sysctl.d/90-test.conf")


def failing_unit(guest, state):
    guest.ok("cp /etc/bpstune/enabled.toml /root/enabled.toml && sed -i '1i flavour = 1' /etc/bpstune/enabled.toml")
    status, out = guest.run("systemctl restart bpstune.service")
    if status == 0:
        raise AssertionError("systemctl restart bpstune.service succeeded with a damaged record")
    guest.ok("systemctl is-failed bpstune.service")
    out = guest.ok("journalctl -u bpstune.service -n 20 -o cat --no-pager")
    if "bpstune: /etc/bpstune/enabled.toml: unknown key flavour" not in out:
        raise AssertionError("journal: " + out)
    guest.ok("cp /root/enabled.toml /etc/bpstune/enabled.toml && systemctl restart bpstune.service && "
             "systemctl is-active bpstune.service")


def timeout(guest, state):
    # Another run holds the host-wide lock (its pid in the file, as bpstune writes it) and
    # the boot unit's start timeout is cut to 5 s by a drop-in: systemd's SIGTERM comes
    # while bpstune waits (--lock-timeout 60), and its line says for what.
    guest.ok("mkdir -p /run/systemd/system/bpstune.service.d && printf '[Service]\\nTimeoutStartSec=5s\\n' "
             "> /run/systemd/system/bpstune.service.d/timeout.conf && systemctl daemon-reload")
    guest.ok("setsid bash -c 'exec 9<>/run/bpstune/lock && flock 9 && echo $$ > /run/bpstune/lock && "
             "exec sleep 600' </dev/null >/dev/null 2>&1 &")
    wait_until(guest, "! flock -n /run/bpstune/lock true", 10, "the lock held")
    holder = guest.ok("cat /run/bpstune/lock").strip()
    since = guest.ok("date +%s").strip()
    status, out = guest.run("systemctl restart bpstune.service")
    try:
        if status == 0:
            raise AssertionError("systemctl restart bpstune.service succeeded while the lock was held")
        result = guest.ok("systemctl show -P Result bpstune.service").strip()
        if result != "timeout":
            raise AssertionError(f"bpstune.service's result is {result}, not timeout")
        want = ("bpstune: stopped by SIGTERM while waiting for another bpstune run to finish "
                f"(/run/bpstune/lock held by pid {holder})")
        # journald reads the unit's stream on its own time: polled, not read once.
        wait_until(guest, f"journalctl -u bpstune.service --since @{since} -o cat --no-pager | grep -qxF '{want}'",
                   20, "the line " + want)
        state["timeout"] = want
    finally:
        guest.run(f"kill {holder}; rm -rf /run/systemd/system/bpstune.service.d; systemctl daemon-reload")
    guest.ok("systemctl restart bpstune.service && systemctl is-active bpstune.service")


def disable(guest, state):
    out = guest.ok("bpstune disable --no-color")
    if "rolled back" not in out:
        raise AssertionError(out)
    for i in guest.ok("vmcheck ifaces").split():
        now = guest.ok(f"vmcheck state {i}")
        if now != state["baseline"]:
            raise AssertionError(f"{i} after disable:\n{now}\nboot default:\n{state['baseline']}")
    if guest.ok("vmcheck global") != state["global"]:
        raise AssertionError("global values after disable differ from the boot defaults")
    guest.ok("! systemctl is-enabled bpstune.service && ! systemctl is-enabled bpstune-drift.timer && "
             "! systemctl is-active bpstune-drift.timer && test ! -e /etc/bpstune/enabled.toml && "
             "test ! -e /etc/udev/rules.d/80-bpstune.rules")
    guest.sock.sendall(b"CMD " + base64.b64encode(b"systemctl reboot") + b"\n")
    guest.ready()
    settled(guest)
    i = guest.ok("vmcheck ifaces").split()
    for name in i:
        now = guest.ok(f"vmcheck state {name}")
        if now != state["baseline"]:
            raise AssertionError(f"{name} after the second reboot:\n{now}\nboot default:\n{state['baseline']}")
    if guest.ok("vmcheck global") != state["global"]:
        raise AssertionError("global values after the second reboot differ from the boot defaults")
    guest.ok("! journalctl -b -u bpstune.service -o cat --no-pager | grep -q applied")
    out = guest.ok("bpstune rollback --no-color")
    if "nothing to roll back in this boot; 1 apply of earlier boots not rolled back" not in out:
        raise AssertionError("rollback after the reboot: " + out)


def role(guest, state):
    # The package purged first: the role installs it as on a new host of the fleet.
    guest.ok("dpkg --purge bpstune >/dev/null && ! test -e /usr/sbin/bpstune")
    playbook = ("ANSIBLE_NOCOLOR=1 ANSIBLE_LOCALHOST_WARNING=0 ANSIBLE_INVENTORY_UNPARSED_WARNING=0 "
                "$(cat /root/ansible-venv)/bin/ansible-playbook -c local -i localhost, "
                "-e ansible_python_interpreter=/usr/bin/python3 /root/site.yml")
    t0 = time.time()
    out = guest.ok(playbook, timeout=900)
    state["role"] = f"{time.time() - t0:.0f} s"
    # Each task's block of the output: its header, warnings, then its result line.
    blocks = dict((b.split("]", 1)[0], b) for b in out.split("TASK [")[1:])
    for task in ("Install the bpstune package", "Enable the profile at boot, on hot-plug and now"):
        block = blocks.get("bpstune.bpstune.bpstune : " + task, "")
        if not re.search(r"^changed: \[localhost\]", block, re.M):
            raise AssertionError(f"the role's '{task}' did not change the host: {(block or out)[-1500:]}")
    if not re.search(r"localhost +: ok=\d+ +changed=[1-9]\d* +unreachable=0 +failed=0", out):
        raise AssertionError("first run: " + out[-1500:])
    # Checked without bpstune's reader: dpkg, systemctl, and vmcheck's cat/ethtool/chrt.
    guest.ok("dpkg-query -W -f='${Status}' bpstune | grep -qx 'install ok installed'")
    guest.ok("systemctl is-enabled bpstune.service && systemctl is-enabled bpstune-drift.timer && "
             "systemctl is-active bpstune-drift.timer && test -s /etc/bpstune/enabled.toml")
    guest.ok(all_tuned(guest))
    t0 = time.time()
    again = guest.ok(playbook, timeout=900)
    state["role again"] = f"{time.time() - t0:.0f} s"
    if not re.search(r"localhost +: ok=\d+ +changed=0 +unreachable=0 +failed=0", again):
        raise AssertionError("second run changed something: " + again[-1500:])


STEPS = [
    ("boot with systemd as PID 1 from the disk image",
     boot),
    ("a0. every service the package installs scores 4.5 or lower with systemd-analyze security --offline=yes",
     security),
    ("a. enable persist-threaded (seed 002's napi-threaded, kthread not busy-polling): applied, units enabled, record and rule written",
     enable),
    ("b. reboot: applied again at boot, before network-pre.target, as enabled although the profile was edited since",
     reboot),
    ("c. a hot-added second igb is tuned within 10 s",
     hot_add),
    ("d. modprobe -r igb && modprobe igb: every igb re-created and tuned within 10 s",
     reload),
    ("e. a value changed behind bpstune's back: the timer reports it in the .prom file and the journal",
     drift),
    ("f. a /etc/sysctl.d file setting busy_poll differently: enable and status warn, naming it",
     sysctl_d),
    ("f2. a failing boot unit shows in systemctl and the journal with bpstune's one-line message",
     failing_unit),
    ("f3. the boot unit past its start timeout (lock held, TimeoutStartSec=5s): the journal names the lock and its holder",
     timeout),
    ("g. disable: every value back to its boot default, units disabled; another reboot keeps them",
     disable),
    ("h. the Ansible role installs the .deb with apt, enables and verifies the profile under real systemd; a second run changes nothing",
     role),
]


def summary(state):
    """The figures the steps recorded, in two lines."""
    print(f"systemd: bpstune.service/network-pre.target active at {state.get('order', '?')} µs; "
          f"hot-added igb tuned after {state.get('hot-add', '?')}; igb reload tuned after {state.get('reload', '?')}; "
          f"the Ansible role took {state.get('role', '?')}, then {state.get('role again', '?')}",
          flush=True)
    print(f"systemd: exposure {state.get('scores', '?')}; activation {state.get('blame', '?')}; "
          f"timeout line: {state.get('timeout', '?')}", flush=True)


def main():
    guest = Guest()
    state = {}
    try:
        for name, function in STEPS:
            # Without a booted guest no other step can run.
            if not step(name, function, guest, state) and function is boot:
                return
        summary(state)
    finally:
        guest.stop()


try:
    main()
except Exception as e:
    print(f"FAIL systemd: {e}", flush=True)
    results.append(False)
sys.exit(0 if results and all(r is True for r in results) else 1)
