# The VM tier's scenarios, run by /init inside the guest (busybox sh). Every value is read with
# an independent tool (cat of /proc and /sys, ethtool, chrt, taskset, napi-dump), never with
# bpstune. Each scenario prints "VMTEST pass NAME" or "VMTEST fail NAME: why".
export BPSTUNE_STATE_DIR=/var/lib/bpstune
failed=""
iface_of() { # DRIVER -> the interface it drives (not the probe's pair, MACs 52:54:00:b9:*)
  for dev in /sys/class/net/*; do
    case "$(cat "$dev/address")" in 52:54:00:b9:*) continue ;; esac
    [ "$(basename "$(readlink "$dev/device/driver" 2>/dev/null)")" = "$1" ] && { basename "$dev"; return; }
  done
}
iface_with_mac() { # MAC -> interface
  for dev in /sys/class/net/*; do [ "$(cat "$dev/address")" = "$1" ] && { basename "$dev"; return; }; done
}
IF=$(iface_of igb)
echo "VMTEST interfaces: igb $IF, e1000e $(iface_of e1000e), virtio_net $(iface_of virtio_net)"

fail() { failed="$failed${failed:+; }$*"; }
expect() { # NAME EXPECTED ACTUAL
  [ "$2" = "$3" ] || fail "$1 is '$3', expected '$2'"
}
run() { # expected-exit command...
  want=$1; shift
  out=$("$@" 2>&1); got=$?
  [ "$got" = "$want" ] || fail "'$*' exited $got, expected $want: $(echo "$out" | tail -3 | tr '\n' ' ')"
}
finish() { # NAME; the guest's uptime goes with it, so the run shows what each scenario costs
  up=$(cut -d. -f1 /proc/uptime)
  if [ -z "$failed" ]; then echo "VMTEST pass $1 [$((up - ${last_up:-0})) s]"; else echo "VMTEST fail $1: $failed"; fi
  failed=""
  last_up=$up
}
queue_irqs() { # "number name" of each of $IF's queue IRQs, by the names its driver gives them:
  # IF-rx-N, IF-tx-N, IF-TxRx-N (igb, e1000e), virtioM-input.N and virtioM-output.N (virtio-net)
  virtio=$(basename "$(readlink /sys/class/net/$IF/device)")
  awk -v i="$IF-" -v v="$virtio-" '(index($NF, i) == 1 && $NF ~ /-(rx|tx|TxRx)-[0-9]+$/) ||
    (v ~ /^virtio/ && index($NF, v) == 1 && $NF ~ /-(input|output)\.[0-9]+$/) { sub(":", "", $1); print $1, $NF }' /proc/interrupts
}
ethtool_value() { # OPTION NAME -> value after "NAME:"
  ethtool "$1" $IF | awk -v n="$2:" '$1 == n { print $2; exit }'
}
state() { # every value the scenarios touch, read independently; NAPIs by their values, since
  # ids, pids and IRQ numbers change when channels re-create queues
  for s in net/core/busy_read net/core/busy_poll net/core/rps_sock_flow_entries kernel/timer_migration \
    kernel/sched_rt_runtime_us; do echo "$s $(cat /proc/sys/$s)"; done
  echo "workqueue $(cat /sys/devices/virtual/workqueue/cpumask)"
  for f in /sys/devices/virtual/workqueue/*/cpumask /sys/devices/system/cpu/cpu*/power/pm_qos_resume_latency_us; do
    echo "$f $(cat $f)"
  done
  for f in threaded napi_defer_hard_irqs gro_flush_timeout; do echo "$f $(cat /sys/class/net/$IF/$f)"; done
  for q in /sys/class/net/$IF/queues/rx-*; do echo "$(basename $q) rps $(cat $q/rps_cpus)"; done
  ethtool -c $IF | tail -n +2
  ethtool -g $IF | tail -n +2
  ethtool -l $IF | tail -n +2
  ethtool -k $IF | tail -n +2
  napi-dump $IF | awk '$1 == "napi" { $2 = ""; $4 = ""; $6 = ""; print }' | sort
  # queue IRQs by name (numbers change with channels): requested affinity
  queue_irqs | while read -r n name; do echo "irq $name $(cat /proc/irq/$n/smp_affinity_list)"; done
  echo "default_smp_affinity $(cat /proc/irq/default_smp_affinity)"
  # NAPI kthreads: policy, priority and CPUs of each (a line per kthread)
  for pid in $(napi-dump $IF | awk '$1 == "napi" && $6 != "-" { print $6 }'); do
    echo "kthread $(chrt -p $pid | awk -F': ' '{ print $2 }' | tr '\n' ' ') $(taskset -pc $pid | awk -F': ' '{ print $2 }')"
  done
}

for i in $(iface_of igb) $(iface_of e1000e) $(iface_of virtio_net); do ip link set $i up; done
sleep 1

# 1. hft on igb: busy_read/busy_poll 50, rx-usecs 100, GRO off; verify; rollback to the start.
before=$(state)
run 0 bpstune apply hft -i $IF
expect busy_read 50 "$(cat /proc/sys/net/core/busy_read)"
expect busy_poll 50 "$(cat /proc/sys/net/core/busy_poll)"
expect rx-usecs 100 "$(ethtool_value -c rx-usecs)"
expect gro off "$(ethtool -k $IF | awk '$1 == "generic-receive-offload:" { print $2 }')"
run 0 bpstune verify hft -i $IF
run 0 bpstune rollback
expect "state after rollback" "$before" "$(state)"
finish "hft"

# igb's coalescing and rings as the driver reports them (issue 3's per-field support).
out=$(bpstune diff /profiles-extra/igb-limits.profile -i $IF 2>&1)
echo "$out" | grep -q "igb: rx-frames not supported" || fail "no 'igb: rx-frames not supported' in: $out"
echo "$out" | grep -q "rx ring max is 4096" || fail "no 'rx ring max is 4096' in: $out"
ethtool -g $IF | grep -q "^RX:[[:space:]]*4096" || fail "ethtool -g does not say RX max 4096"
expect "ethtool -c rx-frames (the driver lacks it)" "n/a" "$(ethtool_value -c rx-frames)"
finish "igb-limits"

# 2. The three seed-002 configurations in turn, then switching and rolling back twice.
# SMT control does not exist in the VM ("notsupported"), hence --skip-unsupported.
busy_poll_kernel=$(napi-dump --ops | grep -q "attr 8 max 2" && echo yes || echo no)
rx0_napi() { napi-dump $IF | awk '$1 == "queue" && $2 == "rx" && $3 == 0 { print $5 }'; }
napi_field() { # NAPI-ID FIELD
  napi-dump $IF | awk -v id="$1" -v f="$2" '$1 == "napi" && $2 == id { for (i = 3; i < NF; i += 2) if ($i == f) print $(i + 1) }'
}
check_host_setup() {
  expect timer_migration 0 "$(cat /proc/sys/kernel/timer_migration)"
  expect sched_rt_runtime_us -1 "$(cat /proc/sys/kernel/sched_rt_runtime_us)"
  expect "combined channels" 1 "$(ethtool -l $IF | awk '/^Current/ { c = 1 } c && $1 == "Combined:" { print $2 }')"
  expect "rx ring" 1024 "$(ethtool -g $IF | awk '/^Current/ { c = 1 } c && $1 == "RX:" { print $2 }')"
  expect rx-usecs 0 "$(ethtool_value -c rx-usecs)"
}
original=$(state)
for config in interrupts napi-busy-poll napi-threaded; do
  before=$(state)
  if [ $config = napi-threaded ] && [ $busy_poll_kernel = no ]; then
    # Before 6.19: threaded busy-poll is unsupported; apply refuses without changing anything.
    run 2 bpstune apply $config -i $IF
    expect "state after a refused apply" "$before" "$(state)"
    finish "$config (busy-poll unsupported, refused)"
    continue
  fi
  run 0 bpstune apply $config -i $IF --skip-unsupported
  check_host_setup
  case $config in
    interrupts)
      expect busy_read 0 "$(cat /proc/sys/net/core/busy_read)"
      expect napi_defer_hard_irqs 0 "$(cat /sys/class/net/$IF/napi_defer_hard_irqs)" ;;
    napi-busy-poll)
      expect busy_read 400 "$(cat /proc/sys/net/core/busy_read)"
      expect napi_defer_hard_irqs 100 "$(cat /sys/class/net/$IF/napi_defer_hard_irqs)"
      expect gro_flush_timeout 15000 "$(cat /sys/class/net/$IF/gro_flush_timeout)" ;;
    napi-threaded)
      napi=$(rx0_napi)
      expect "rx-0 NAPI threaded" 2 "$(napi_field "$napi" threaded)"
      pid=$(napi_field "$napi" pid)
      chrt -p "$pid" | grep -q "SCHED_FIFO" || fail "kthread $pid is not SCHED_FIFO: $(chrt -p $pid)"
      chrt -p "$pid" | grep -q "priority: 50" || fail "kthread $pid priority is not 50"
      expect "kthread CPUs" 2 "$(taskset -pc "$pid" | awk -F': ' '{ print $2 }')" ;;
  esac
  run 0 bpstune verify $config -i $IF --ignore-unsupported
  after=$(state)
  run 0 bpstune rollback
  expect "state after rollback" "$before" "$(state)"
  finish "$config"
  [ $config = napi-threaded ] && threaded_state=$after
done

# Switching: napi-threaded, then interrupts, then roll back twice.
if [ $busy_poll_kernel = yes ]; then
  run 0 bpstune apply napi-threaded -i $IF --skip-unsupported
  run 0 bpstune apply interrupts -i $IF --skip-unsupported
  expect "no kthread after switching to interrupts" "" "$(napi-dump $IF | awk '$1 == "napi" && $6 != "-"')"
  run 0 bpstune rollback
  expect "napi-threaded state after the first rollback" "$threaded_state" "$(state)"
  run 0 bpstune rollback
  expect "original state after the second rollback" "$original" "$(state)"
  finish "switch napi-threaded -> interrupts, rollback twice"
fi

# 3. kill -9 at every system call of an apply of napi-busy-poll (channels, rings, coalescing,
# sysctls, device sysfs, NAPIs) that changes kernel state or the snapshot, then rollback: every
# value is as before. strace injects SIGKILL on entry to the ordinal-th call of one syscall, so
# each point is hit exactly; the points come from one traced run. strace does not decode a
# SIOCETHTOOL ioctl's command, so the ioctls that follow a -v line of an ethtool setting (its
# read, write and read back) are points; planning's reads elsewhere cannot change anything.
kill_points() { # TRACE -> "syscall ordinal what" per point
  awk '
    { name = $0; sub(/\(.*/, "", name); count[name]++; what = "" }
    name == "write" && index($0, "write(2<") == 1 {
      logging = $0 ~ / (channels|ring|coalesce|features): /
      next
    }
    name != "ioctl" { logging = 0 }
    name == "write" && match($0, /<\/(proc\/sys|sys|proc\/irq)\/[^>]*>/) { what = substr($0, RSTART + 1, RLENGTH - 2) }
    name == "write" && index($0, "/snapshots/") { what = "snapshot" }
    name == "ioctl" && logging && index($0, "SIOCETHTOOL") { what = "SIOCETHTOOL" }
    name == "sendmsg" && index($0, "nlmsg_type=netdev") && index($0, "\"\\x0e") { what = "napi-set" }
    name ~ /^sched_set/ { what = name }
    what != "" { print name, count[name], what }
  ' "$1"
}
newest_snapshot() { # OPERATION -> "ID STATUS" of the newest snapshot file of that operation
  f=$(ls /var/lib/bpstune/snapshots/*-$1.json 2>/dev/null | tail -1)
  [ -n "$f" ] && echo "$(basename "$f" .json) $(sed -n 's/.*"status" : "\(.*\)".*/\1/p' "$f")"
}
kill_test() { # OPERATION: apply or rollback, killed at each point; then a (second) rollback
  op=$1
  if [ $op = apply ]; then args="apply napi-busy-poll -i $IF --skip-unsupported -v"; else args="rollback -v"; fi
  original=$(state)
  [ $op = rollback ] && run 0 bpstune apply napi-busy-poll -i $IF --skip-unsupported
  strace -qq -y -s 48 -o /tmp/trace -e trace=write,ioctl,sendmsg,sched_setscheduler,sched_setaffinity \
    bpstune $args >/dev/null 2>&1 || fail "traced $op failed"
  [ $op = apply ] && run 0 bpstune rollback
  expect "state after the traced $op" "$original" "$(state)"
  kill_points /tmp/trace > /tmp/points
  outcomes=""
  while read -r call n what; do
    [ $op = rollback ] && run 0 bpstune apply napi-busy-poll -i $IF --skip-unsupported
    last=$(newest_snapshot $op)
    strace -qq -o /dev/null -e trace=$call -e inject=$call:signal=KILL:when=$n bpstune $args >/dev/null 2>&1
    got=$?
    [ $got = 137 ] || fail "$op not killed at $call #$n ($what): exit $got"
    newest=$(newest_snapshot $op)
    if [ "${newest%% *}" = "${last%% *}" ]; then outcome=before-snapshot; else outcome=${newest##* }; fi
    outcomes="$outcomes $outcome"
    run 0 bpstune rollback
    now=$(state)
    expect "state after $op killed at $call #$n ($what), then rollback" "$original" "$now"
    [ "$now" = "$original" ] || break
  done < /tmp/points
  summary=$(echo $outcomes | tr ' ' '\n' | sort | uniq -c | awk '{ printf "%s%s %s", sep, $1, $2; sep = ", " }')
  finish "kill -9 at each of $(wc -l < /tmp/points) points of $op ($(awk '$3 != "SIOCETHTOOL" && $3 != "snapshot"' /tmp/points | wc -l) kernel writes; $summary), rollback"
}
kill_test apply
# A rollback's points each need a fresh apply first; under TCG that doubles the cost, so the
# VM tier kills rollbacks on one kernel (the newest; vm-test says which), the host tier on all.
grep -q "bpstune.rollback_kills=1" /proc/cmdline && kill_test rollback

# 4. What this kernel lacks: shown as unsupported with the version it needs, device sysfs used
# where it does the same for every NAPI, and nothing changed by a refused apply.
caps=$(napi-dump --ops 2>&1)
has_op() { echo "$caps" | grep -q "^ops.* $1\( \|$\)"; }
per_napi_threaded=$(echo "$caps" | grep -q "attr 8" && echo yes || echo no)
out=$(bpstune diff napi-threaded -i $IF 2>&1)
if [ $busy_poll_kernel = no ]; then
  echo "$out" | grep -q "rx-0 threaded *unsupported: needs Linux 6.19+ (threaded busy-poll)" ||
    fail "napi-threaded does not say busy-poll needs 6.19: $out"
fi
out=$(bpstune diff interrupts -i $IF 2>&1)
if [ $per_napi_threaded = no ]; then
  echo "$out" | grep -q "falls back to device sysfs threaded" || fail "interrupts does not fall back to sysfs threaded: $out"
else
  echo "$out" | grep -q "rx-0 threaded" || fail "interrupts has no per-NAPI threaded: $out"
fi
cat > /tmp/subset.profile <<PROFILE
[[interface]]
name = "$IF"
napi = { queues = [0], defer-hard-irqs = 100 }
PROFILE
before=$(state)
out=$(bpstune diff /tmp/subset.profile 2>&1)
if has_op 14; then
  echo "$out" | grep -q "rx-0 defer-hard-irqs *0 -> 100" || fail "no per-NAPI defer-hard-irqs change: $out"
else
  echo "$out" | grep -q "needs Linux 6.13+ (netdev netlink napi-set); device sysfs napi_defer_hard_irqs would set every NAPI" ||
    fail "subset defer-hard-irqs not unsupported with 6.13: $out"
  run 2 bpstune apply /tmp/subset.profile
  expect "state after a refused apply" "$before" "$(state)"
fi
finish "kernel capabilities (napi-set $(has_op 14 && echo yes || echo no), per-NAPI threaded $per_napi_threaded, busy-poll $busy_poll_kernel)"

# 5. Queue IRQ affinity on igb (separate eth0-rx-N and eth0-tx-N vectors here): spread over the
# online CPUs, round robin in queue order, as /proc/irq/N/smp_affinity_list says; then with
# channels changed in the same apply (4 vectors on 4 CPUs: each on its own CPU), and rollback
# restores the previous lists though the IRQs were re-created with new numbers.
cpus=$(grep -c ^processor /proc/cpuinfo)
irq_lists() { # "queue name cpus" of each queue IRQ, in queue order, then name
  queue_irqs | while read -r n name; do echo "${name##*[-.]} $name $(cat /proc/irq/$n/smp_affinity_list)"; done |
    sort -k1,1n -k2,2
}
cat > /tmp/spread.profile <<PROFILE
[[interface]]
name = "$IF"
irq-affinity = { cpus = "@online", mode = "spread" }
[irq]
default-affinity = "0"
PROFILE
before=$(state)
run 0 bpstune apply /tmp/spread.profile
count=$(irq_lists | wc -l)
expected=$(irq_lists | awk -v c="$cpus" '{ print $1, $2, (NR - 1) % c }')
expect "spread lists" "$expected" "$(irq_lists)"
[ "$count" -ge 4 ] || fail "only $count queue IRQs"
expect default_smp_affinity 1 "$(sed 's/^[0,]*//' /proc/irq/default_smp_affinity)"
run 0 bpstune verify /tmp/spread.profile
run 0 bpstune rollback
expect "state after rollback" "$before" "$(state)"
finish "irq-affinity spread: $count queue IRQs round robin on $cpus CPUs"

cat > /tmp/spread-channels.profile <<PROFILE
[[interface]]
name = "\${iface}"
channels = { combined = 2 }
irq-affinity = { cpus = "@online", mode = "spread" }
PROFILE
before=$(state)
numbers_before=$(queue_irqs | awk "{ printf \"%s \", \$1 }")
run 0 bpstune apply /tmp/spread-channels.profile -i $IF
lists=$(irq_lists)
expect "queue IRQs after combined 2" 4 "$(echo "$lists" | wc -l)"
expect "each queue IRQ on its own CPU" "0 1 2 3" "$(echo "$lists" | awk '{ print $3 }' | sort -n | tr '\n' ' ' | sed 's/ $//')"
run 0 bpstune verify /tmp/spread-channels.profile -i $IF
numbers_during=$(queue_irqs | awk "{ printf \"%s \", \$1 }")
run 0 bpstune rollback
expect "state after rollback (channels and IRQs re-created)" "$before" "$(state)"
numbers_after=$(queue_irqs | awk "{ printf \"%s \", \$1 }")
finish "channels 2 and irq-affinity spread in one apply, each IRQ on its own CPU, rollback (IRQs $numbers_before -> $numbers_during -> $numbers_after)"

# 6. The same on e1000e and on a multiqueue virtio-net: hft (what the driver cannot do is
# unsupported, naming the driver), then channels and IRQ spread in one apply, each time with
# verify and a rollback to the exact previous state. Queue IRQs come from the names each
# driver gives them: e1000e's eth1-rx-0/eth1-tx-0, virtio's virtioN-input.Q/virtioN-output.Q.
for driver in e1000e virtio_net; do
  IF=$(iface_of $driver)
  if [ -z "$IF" ]; then
    fail "no $driver interface"
    finish "$driver"
    continue
  fi
  before=$(state)
  out=$(bpstune diff hft -i $IF 2>&1)
  unsupported=$(echo "$out" | awk '/unsupported: / { sub(/^ *! */, ""); print }' | tr -s ' ' | tr '\n' ';' | sed 's/;$//')
  echo "$out" | awk '/unsupported: /' | grep -v "$driver" | grep -q . && fail "an unsupported reason does not name $driver: $unsupported"
  run 0 bpstune apply hft -i $IF --skip-unsupported
  expect busy_read 50 "$(cat /proc/sys/net/core/busy_read)"
  expect gro off "$(ethtool -k $IF | awk '$1 == "generic-receive-offload:" { print $2 }')"
  if echo "$out" | grep -q "rx-usecs.*unsupported"; then
    echo "$out" | grep -q "$driver: rx-usecs not supported" || fail "rx-usecs unsupported without the driver's name"
  else
    expect rx-usecs 100 "$(ethtool_value -c rx-usecs)"
  fi
  run 0 bpstune verify hft -i $IF --ignore-unsupported
  run 0 bpstune rollback
  expect "state after rollback" "$before" "$(state)"
  finish "hft on $driver ($IF)${unsupported:+; unsupported: $unsupported}"

  before=$(state)
  out=$(bpstune diff /tmp/spread-channels.profile -i $IF 2>&1)
  if ethtool -l $IF >/dev/null 2>&1; then
    run 0 bpstune apply /tmp/spread-channels.profile -i $IF
    expect "combined channels" 2 "$(ethtool -l $IF | awk '/^Current/ { c = 1 } c && $1 == "Combined:" { print $2 }')"
    note="combined 2"
  else
    # No channels in this driver: unsupported, naming it, and the rest applied.
    echo "$out" | grep -q "channels.*unsupported: $driver does not support channels" ||
      fail "channels not unsupported with the driver's name: $out"
    run 2 bpstune apply /tmp/spread-channels.profile -i $IF
    expect "state after a refused apply" "$before" "$(state)"
    run 0 bpstune apply /tmp/spread-channels.profile -i $IF --skip-unsupported
    note="channels unsupported"
  fi
  lists=$(irq_lists)
  count=$(echo "$lists" | grep -c .)
  [ "$count" -ge 2 ] || fail "only $count queue IRQs: $lists"
  cpus_used=$(echo "$lists" | awk '{ print $3 }' | sort -n | uniq | wc -l)
  expected_cpus=$((count < cpus ? count : cpus))
  expect "CPUs used by $count queue IRQs spread" "$expected_cpus" "$cpus_used"
  run 0 bpstune verify /tmp/spread-channels.profile -i $IF --ignore-unsupported
  run 0 bpstune rollback
  expect "state after rollback" "$before" "$(state)"
  finish "$note and irq-affinity spread on $driver ($IF): $count queue IRQs ($(echo "$lists" | awk '{ print $2 }' | tr '\n' ' ' | sed 's/ $//')) on $cpus_used CPUs"
done

# 4. bpstune probe on a real (emulated) NIC path, where the boot has the probe's pairs: two igb
# NICs on one QEMU hub, and two virtio-net NICs on another, the second of each moved into a
# network namespace as the peer. probe compare of the three seed-002 configurations at a closed
# loop and a paced workload with application delay. Asserted: what is deterministic here
# (busy-poll counters move under napi-busy-poll only, the busy-poll kthread exists and spins
# under napi-threaded, the host is restored, and on virtio-net the queue IRQs per round trip
# fall); the latencies, and igb's IRQs, are recorded, not asserted.
probe_pair() { # DRIVER CLIENT-MAC PEER-MAC NET (10.99.NET.0/24) IRQS-FALL (yes: asserted)
  local driver=$1 net=$4 falls=$5 CIF PIF
  CIF=$(iface_with_mac "$2")
  PIF=$(iface_with_mac "$3")
  [ -n "$CIF" ] && [ -n "$PIF" ] || return 0
  IP=/usr/sbin/ip   # iproute2's, for network namespaces (busybox's ip has none)
  $IP netns add peer$net
  $IP link set "$PIF" netns peer$net
  $IP netns exec peer$net $IP addr add 10.99.$net.2/24 dev "$PIF"
  $IP netns exec peer$net $IP link set "$PIF" up
  $IP netns exec peer$net $IP link set lo up
  $IP addr add 10.99.$net.1/24 dev "$CIF"
  $IP link set "$CIF" up
  # The peer's server on CPU 0, away from the IRQ and busy-poll CPU (2) of the profiles.
  $IP netns exec peer$net bpstune probe server --bind 10.99.$net.2:7878 --cpu 0 > /tmp/server$net.log 2>&1 &
  server=$!
  i=0; while ! grep -q listening /tmp/server$net.log && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
  # the link comes up and answers ARP
  i=0; while ! ping -c 1 -W 1 10.99.$net.2 >/dev/null 2>&1 && [ $i -lt 20 ]; do i=$((i + 1)); done
  before=$(IF=$CIF; state)
  bpstune probe compare interrupts napi-busy-poll napi-threaded -i "$CIF" --skip-unsupported \
    --peer 10.99.$net.2:7878 --workload 0:0 --workload 1000:30 --duration 3 --warmup 0.5 --settle 1 --cpu 1 \
    --plot /tmp/probe$net.svg > /tmp/compare$net.out 2> /tmp/compare$net.err &
  compare=$!
  # While napi-threaded measures: its busy-poll kthread exists and spins (CPU time in /proc).
  spin=""
  i=0
  while kill -0 $compare 2>/dev/null && [ $i -lt 900 ]; do
    if grep -q "measuring napi-threaded" /tmp/compare$net.err && [ -z "$spin" ]; then
      pid=$(napi-dump "$CIF" | awk '$1 == "napi" && $6 != "-" { print $6; exit }')
      if [ -n "$pid" ]; then
        t0=$(awk '{ print $14 + $15 }' /proc/$pid/stat)
        sleep 1
        t1=$(awk '{ print $14 + $15 }' /proc/$pid/stat)
        spin="$pid $((t1 - t0))"
      fi
    fi
    sleep 0.2
    i=$((i + 1))
  done
  wait $compare
  status=$?
  cat /tmp/compare$net.out | sed 's/^/VMTEST probe-table /'
  [ $status = 0 ] || fail "probe compare exited $status: $(tail -3 /tmp/compare$net.err | tr '\n' ' ')"
  expect "state after probe compare" "$before" "$(IF=$CIF; state)"
  # A row of the table: the cells of the first workload's row starting with LABEL, by profile.
  row() { awk -F'|' -v l="$1" -v w="$2" '/^\| [^|]/ && !/round trip/ { n++ } n == w && index($3, " " l) == 1 {
    for (i = 3; i < NF; i++) { v = $i; sub(/.*: \+?/, "", v); sub(/ .*/, "", v); printf "%s ", v } exit }' /tmp/compare$net.out; }
  set -- $(row "busy-poll rx" 1)
  [ "${1:-x}" = 0 ] || fail "busy-poll rx under interrupts is '${1:-}', expected 0"
  [ "${2:-0}" -gt 0 ] 2>/dev/null || fail "busy-poll rx under napi-busy-poll is '${2:-}', expected > 0"
  # Queue IRQs per round trip of a workload (its rate x 3 s round trips), by profile.
  per_round_trip() { # WORKLOAD
    set -- $(row "queue IRQs" $1) $(awk -F'|' -v w=$1 '/^\| [^|]/ && !/round trip/ { n++ } n == w && $3 ~ /\/s, lost/ {
      for (i = 3; i < NF; i++) { v = $i; sub(/^ */, "", v); sub(/\/s.*/, "", v); printf "%s ", v } exit }' /tmp/compare$net.out)
    echo "$@" | awk '{ for (i = 1; i <= 3; i++) printf "%.2f ", $i / ($(i + 3) * 3 + 1) }'
  }
  per=$(per_round_trip 1)
  paced=$(per_round_trip 2)
  # Where the NIC model honours the driver's masking (virtio-net: QEMU suppresses a
  # virtqueue's notifications while the driver polls it), IRQs fall as the series says: IRQ
  # deferral with busy polling takes about half of them away, threaded busy polling more
  # (7.2.13, three runs: 1.96-1.98, 1.01, 0.66-0.83 per round trip closed loop; 1.55-1.73,
  # 0.84-0.92, 0.46-0.55 paced). QEMU's igb model raises about 3 per round trip whatever the
  # driver does (3.00, 3.03, 2.87): recorded.
  if [ "$falls" = yes ]; then
    for w in "$per" "$paced"; do
      echo "$w" | awk '{ exit !($1 > 0 && $2 <= 0.75 * $1 && $3 <= 0.6 * $1) }' ||
        fail "queue IRQs per round trip $w (interrupts, napi-busy-poll, napi-threaded) do not fall to 0.75x and 0.6x"
    done
  fi
  if [ $busy_poll_kernel = yes ]; then
    [ -n "$spin" ] || fail "no busy-poll kthread seen while napi-threaded measured"
    set -- $spin
    [ "${2:-0}" -ge 20 ] || fail "the busy-poll kthread $1 used only ${2:-0} ticks of 100 in a second"
  fi
  [ -s /tmp/probe$net.svg ] || fail "no chart"
  # vm-test keeps the first pair's chart beside the console log
  [ "$net" != 0 ] || sed 's/^/VMTEST probe-svg /' /tmp/probe$net.svg
  kill $server
  set -- $(row "busy-poll rx" 1)
  [ "${3:-x}" = 0 ] || fail "busy-poll rx under napi-threaded is '${3:-}': the kthread polls, not the socket"
  finish "probe compare on $driver ($CIF, peer $PIF in a namespace): queue IRQs per round trip ${per% } closed loop, ${paced% } paced$([ "$falls" = yes ] && echo ' (falling, asserted)'); busy-poll kthread ${spin:-none} ticks/s"
}
[ -e /var/run ] || ln -s /run /var/run
probe_pair igb 52:54:00:b9:00:01 52:54:00:b9:00:02 0 no
probe_pair virtio_net 52:54:00:b9:00:03 52:54:00:b9:00:04 1 yes

# 8. The host half (issue 17): [sysfs] globs over the per-workqueue cpumasks and every CPU's PM
# QoS limit, [cpu] idle-latency on one CPU, each file read with cat; rollback to the start. And
# [cmdline] against this boot's real command line: vm-test boots the oldest kernel with
# isolcpus=3 and the others without it.
before=$(state)
cat > /tmp/globs.profile <<'PROFILE'
[sysfs]
"devices/virtual/workqueue/*/cpumask" = "0"
"devices/system/cpu/cpu*/power/pm_qos_resume_latency_us" = 25
PROFILE
masks=$(ls /sys/devices/virtual/workqueue/*/cpumask | wc -l)
qos=$(ls /sys/devices/system/cpu/cpu*/power/pm_qos_resume_latency_us | wc -l)
run 0 bpstune apply /tmp/globs.profile
for f in /sys/devices/virtual/workqueue/*/cpumask; do
  expect "$f" 1 "$(sed 's/^[0,]*//' $f)"
done
for f in /sys/devices/system/cpu/cpu*/power/pm_qos_resume_latency_us; do expect "$f" 25 "$(cat $f)"; done
run 0 bpstune verify /tmp/globs.profile
cat > /tmp/cpu.profile <<'PROFILE'
[cpu]
cpus = "1"
idle-latency = "0us"
governor = "performance"
PROFILE
out=$(bpstune diff /tmp/cpu.profile 2>&1)
if ! ls /sys/devices/system/cpu/cpufreq/policy* >/dev/null 2>&1; then
  echo "$out" | grep -q "unsupported: no cpufreq on this host" || fail "no cpufreq reason in: $out"
fi
run 0 bpstune apply /tmp/cpu.profile --skip-unsupported
expect "cpu1 PM QoS (0 us = n/a)" n/a "$(cat /sys/devices/system/cpu/cpu1/power/pm_qos_resume_latency_us)"
expect "cpu0 PM QoS" 25 "$(cat /sys/devices/system/cpu/cpu0/power/pm_qos_resume_latency_us)"
run 0 bpstune rollback
run 0 bpstune rollback
expect "state after rollback" "$before" "$(state)"
cat > /tmp/cmdline.profile <<'PROFILE'
[cmdline]
isolcpus = "3"
console = "ttyS0"
PROFILE
if grep -qw isolcpus=3 /proc/cmdline; then
  run 0 bpstune verify /tmp/cmdline.profile
  expect "isolated CPUs" 3 "$(cat /sys/devices/system/cpu/isolated)"
  booted=with
else
  out=$(bpstune verify /tmp/cmdline.profile 2>&1); got=$?
  expect "verify exit without isolcpus" 1 "$got"
  echo "$out" | grep -q "DRIFT  isolcpus .*needs reboot" || fail "no needs-reboot drift in: $out"
  echo "$out" | grep -q "ok     console" || fail "console=ttyS0 not ok in: $out"
  run 1 bpstune cmdline /tmp/cmdline.profile
  booted=without
fi
finish "host half: $masks workqueue masks and $qos PM QoS files by glob, [cpu] idle-latency, [cmdline] verify booted $booted isolcpus=3"
