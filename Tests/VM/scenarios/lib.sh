# The VM tier's shared helpers (busybox sh), sourced by /init and by every scenario,
# Tests/VM/scenarios/NN-NAME.sh, each of which /init runs in a shell of its own. Every value is
# read with an independent tool (cat of /proc and /sys, ethtool, chrt, taskset, napi-dump), never
# with bpstune. A scenario prints "VMTEST pass CHECK [N s]" or "VMTEST fail CHECK: why" per check,
# "VMTEST skip NAME: why" when it has nothing to check on this kernel, and "VMTEST fail NAME: ..."
# when the guest is not at the baseline (the values /init recorded at boot) as it starts or ends.
export BPSTUNE_STATE_DIR=/var/lib/bpstune
BASELINE=/tmp/vmtest-baseline
SCENARIO=${0##*/}
SCENARIO=${SCENARIO%.sh}
SCENARIO=${SCENARIO#[0-9][0-9]-}

# --- Interfaces ---------------------------------------------------------------------------------
iface_of() { # DRIVER -> the interface it drives (not the probe's pair, MACs 52:54:00:b9:*)
  for dev in /sys/class/net/*; do
    case "$(cat "$dev/address")" in 52:54:00:b9:*) continue ;; esac
    [ "$(basename "$(readlink "$dev/device/driver" 2>/dev/null)")" = "$1" ] && { basename "$dev"; return; }
  done
}
iface_with_mac() { # MAC -> interface
  for dev in /sys/class/net/*; do [ "$(cat "$dev/address")" = "$1" ] && { basename "$dev"; return; }; done
}
# The interface the scenarios tune unless they set IF themselves (those on e1000e and virtio-net).
IF=$(iface_of igb)
cpus=$(grep -c ^processor /proc/cpuinfo)
# Threaded busy-poll (6.19+): the netdev family's threaded attribute takes 2.
busy_poll_kernel=$(napi-dump --ops | grep -q "attr 8 max 2" && echo yes || echo no)

# --- Checks: each NAME passes when nothing failed since the previous finish --------------------
failed=""
last_up=$(cut -d. -f1 /proc/uptime)
fail() { failed="$failed${failed:+; }$*"; }
expect() { # NAME EXPECTED ACTUAL
  [ "$2" = "$3" ] || fail "$1 is '$3', expected '$2'"
}
run() { # expected-exit command...
  want=$1; shift
  out=$("$@" 2>&1); got=$?
  [ "$got" = "$want" ] || fail "'$*' exited $got, expected $want: $(echo "$out" | tail -3 | tr '\n' ' ')"
}
finish() { # NAME; with the seconds since the previous check (or the scenario's start)
  up=$(cut -d. -f1 /proc/uptime)
  if [ -z "$failed" ]; then echo "VMTEST pass $1 [$((up - last_up)) s]"; else echo "VMTEST fail $1: $failed"; fi
  failed=""
  last_up=$up
}
skip() { # WHY: this kernel or boot has nothing for the scenario to check
  echo "VMTEST skip $SCENARIO: $*"
}

# --- Reading values ----------------------------------------------------------------------------
queue_irqs() { # "number name" of each of $IF's queue IRQs, by the names its driver gives them:
  # IF-rx-N, IF-tx-N, IF-TxRx-N (igb, e1000e), virtioM-input.N and virtioM-output.N (virtio-net)
  virtio=$(basename "$(readlink /sys/class/net/$IF/device)")
  awk -v i="$IF-" -v v="$virtio-" '(index($NF, i) == 1 && $NF ~ /-(rx|tx|TxRx)-[0-9]+$/) ||
    (v ~ /^virtio/ && index($NF, v) == 1 && $NF ~ /-(input|output)\.[0-9]+$/) { sub(":", "", $1); print $1, $NF }' /proc/interrupts
}
irq_lists() { # "queue name cpus" of each of $IF's queue IRQs, in queue order, then name
  queue_irqs | while read -r n name; do echo "${name##*[-.]} $name $(cat /proc/irq/$n/smp_affinity_list)"; done |
    sort -k1,1n -k2,2
}
ethtool_value() { # OPTION NAME -> value after "NAME:"
  ethtool "$1" $IF | awk -v n="$2:" '$1 == n { print $2; exit }'
}
state() { # every value the scenarios touch, read independently: the host's and $IF's
  global_state
  iface_state
}
global_state() {
  for s in net/core/busy_read net/core/busy_poll net/core/rps_sock_flow_entries kernel/timer_migration \
    kernel/sched_rt_runtime_us; do echo "$s $(cat /proc/sys/$s)"; done
  echo "workqueue $(cat /sys/devices/virtual/workqueue/cpumask)"
  for f in /sys/devices/virtual/workqueue/*/cpumask /sys/devices/system/cpu/cpu*/power/pm_qos_resume_latency_us; do
    echo "$f $(cat $f)"
  done
  echo "default_smp_affinity $(cat /proc/irq/default_smp_affinity)"
}
iface_state() { # $IF's values; NAPIs by their values, since ids, pids and IRQ numbers change when
  # channels re-create queues
  for f in threaded napi_defer_hard_irqs gro_flush_timeout; do echo "$f $(cat /sys/class/net/$IF/$f)"; done
  for q in /sys/class/net/$IF/queues/rx-*; do echo "$(basename $q) rps $(cat $q/rps_cpus)"; done
  ethtool -c $IF | tail -n +2
  ethtool -g $IF | tail -n +2
  ethtool -l $IF | tail -n +2
  ethtool -k $IF | tail -n +2
  napi-dump $IF | awk '$1 == "napi" { $2 = ""; $4 = ""; $6 = ""; print }' | sort
  # queue IRQs by name (numbers change with channels): requested affinity
  queue_irqs | while read -r n name; do echo "irq $name $(cat /proc/irq/$n/smp_affinity_list)"; done
  # NAPI kthreads: policy, priority and CPUs of each (a line per kthread)
  for pid in $(napi-dump $IF | awk '$1 == "napi" && $6 != "-" { print $6 }'); do
    echo "kthread $(chrt -p $pid | awk -F': ' '{ print $2 }' | tr '\n' ' ') $(taskset -pc $pid | awk -F': ' '{ print $2 }')"
  done
}

# The profile of channels 2 and IRQ spread in one apply (the igb scenario and the other drivers').
spread_channels_profile() { # -> its path
  cat > /tmp/spread-channels.profile <<PROFILE
[[interface]]
name = "\${iface}"
channels = { combined = 2 }
irq-affinity = { cpus = "@online", mode = "spread" }
PROFILE
  echo /tmp/spread-channels.profile
}

# --- The latency probe's pairs ------------------------------------------------------------------
# On the first kernel vm-test adds two igb NICs on one QEMU hub and two virtio-net NICs on
# another (MACs 52:54:00:b9:00:01-04). probe_pair_up moves the peer NIC into a network namespace
# with a probe server on CPU 0 and sets CIF, PIF and PEER (ADDR:PORT); probe_pair_down puts both
# back as at boot: the peer out of its namespace, the client without its address, down.
IP=/usr/sbin/ip   # iproute2's, for network namespaces (busybox's ip has none)
probe_pair_up() { # CLIENT-MAC PEER-MAC NET (10.99.NET.0/24); returns 1 without the pair
  CIF=$(iface_with_mac "$1")
  PIF=$(iface_with_mac "$2")
  [ -n "$CIF" ] && [ -n "$PIF" ] || return 1
  [ -e /var/run ] || ln -s /run /var/run
  $IP netns add peer$3
  $IP link set "$PIF" netns peer$3
  $IP netns exec peer$3 $IP addr add 10.99.$3.2/24 dev "$PIF"
  $IP netns exec peer$3 $IP link set "$PIF" up
  $IP netns exec peer$3 $IP link set lo up
  $IP addr add 10.99.$3.1/24 dev "$CIF"
  $IP link set "$CIF" up
  $IP netns exec peer$3 bpstune probe server --bind 10.99.$3.2:7878 --cpu 0 > /tmp/server$3.log 2>&1 &
  PEER_SERVER=$!
  PEER=10.99.$3.2:7878
  i=0; while ! grep -q listening /tmp/server$3.log && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
  i=0; while ! ping -c 1 -W 1 10.99.$3.2 >/dev/null 2>&1 && [ $i -lt 20 ]; do i=$((i + 1)); done
  return 0
}
probe_pair_down() { # PEER-MAC NET
  kill $PEER_SERVER 2>/dev/null
  wait $PEER_SERVER 2>/dev/null
  $IP netns del peer$2
  i=0; while [ -z "$(iface_with_mac $1)" ] && [ $i -lt 100 ]; do sleep 0.2; i=$((i + 1)); done
  $IP addr del 10.99.$2.1/24 dev "$CIF"
  $IP link set "$CIF" down
}

# --- The baseline: what every scenario starts from and returns to ------------------------------
# The host's values of state(), those of each NIC the scenarios tune (igb, e1000e, virtio-net),
# every interface's name, MAC and flags (up or down), IPv4 addresses and network namespaces.
baseline_state() {
  global_state
  for driver in igb e1000e virtio_net; do
    (IF=$(iface_of $driver); [ -n "$IF" ] && iface_state | sed "s/^/$driver: /")
  done
  for dev in /sys/class/net/*; do echo "link ${dev##*/} $(cat $dev/address) $(cat $dev/flags)"; done
  /usr/sbin/ip -o -4 addr show | awk '{ print "address", $2, $4 }'
  echo "netns $(ls /run/netns 2>/dev/null | tr '\n' ' ')"
}
# When the previous scenario ended at the baseline, the next one's start check would read the
# same values again a moment later: the marker stands for it (removed by the start it serves).
AT_BASELINE=/tmp/vmtest-at-baseline
record_baseline() { # by /init once the NICs are up
  baseline_state > $BASELINE
  touch $AT_BASELINE
}
at_baseline() { # WHEN: a failed check of its own, naming each line that differs
  baseline_state > /tmp/vmtest-now
  differences=$(awk 'NR == FNR { seen[$0]++; next } seen[$0] { seen[$0]--; next } { print $0 " (now)" }
    END { for (l in seen) if (seen[l]) print l " (at boot)" }' $BASELINE /tmp/vmtest-now | sort | head -20 | awk '{ printf "%s%s", sep, $0; sep = "; " }')
  [ -z "$differences" ] || { echo "VMTEST fail $SCENARIO: the guest is not $1: $differences"; return 1; }
}
scenario_start() {
  if [ -e $AT_BASELINE ]; then rm $AT_BASELINE; else at_baseline "at the baseline at the start"; fi
  last_up=$(cut -d. -f1 /proc/uptime)
}
scenario_end() {
  at_baseline "back at the baseline at the end" && touch $AT_BASELINE
}
