# The VM tier's scenarios, run by /init inside the guest (busybox sh). Every value is read with
# an independent tool (cat of /proc and /sys, ethtool, chrt, taskset, napi-dump), never with
# bpstune. Each scenario prints "VMTEST pass NAME" or "VMTEST fail NAME: why".
export BPSTUNE_STATE_DIR=/var/lib/bpstune
IF=eth0
failed=""

fail() { failed="$failed${failed:+; }$*"; }
expect() { # NAME EXPECTED ACTUAL
  [ "$2" = "$3" ] || fail "$1 is '$3', expected '$2'"
}
run() { # expected-exit command...
  want=$1; shift
  out=$("$@" 2>&1); got=$?
  [ "$got" = "$want" ] || fail "'$*' exited $got, expected $want: $(echo "$out" | tail -3 | tr '\n' ' ')"
}
finish() {
  if [ -z "$failed" ]; then echo "VMTEST pass $1"; else echo "VMTEST fail $1: $failed"; fi
  failed=""
}
ethtool_value() { # OPTION NAME -> value after "NAME:"
  ethtool "$1" $IF | awk -v n="$2:" '$1 == n { print $2; exit }'
}
state() { # every value the scenarios touch, read independently; NAPIs by their values, since
  # ids, pids and IRQ numbers change when channels re-create queues
  for s in net/core/busy_read net/core/busy_poll net/core/rps_sock_flow_entries kernel/timer_migration \
    kernel/sched_rt_runtime_us; do echo "$s $(cat /proc/sys/$s)"; done
  echo "workqueue $(cat /sys/devices/virtual/workqueue/cpumask)"
  for f in threaded napi_defer_hard_irqs gro_flush_timeout; do echo "$f $(cat /sys/class/net/$IF/$f)"; done
  for q in /sys/class/net/$IF/queues/rx-*; do echo "$(basename $q) rps $(cat $q/rps_cpus)"; done
  ethtool -c $IF | tail -n +2
  ethtool -g $IF | tail -n +2
  ethtool -l $IF | tail -n +2
  ethtool -k $IF | tail -n +2
  napi-dump $IF | awk '$1 == "napi" { $2 = ""; $4 = ""; $6 = ""; print }' | sort
  # queue IRQs by name (numbers change with channels): requested affinity
  for n in $(awk -v i="$IF-" 'index($NF, i) == 1 { sub(":", "", $1); print $1 }' /proc/interrupts); do
    echo "irq $(awk -v n="$n:" '$1 == n { print $NF }' /proc/interrupts) $(cat /proc/irq/$n/smp_affinity_list)"
  done
  echo "default_smp_affinity $(cat /proc/irq/default_smp_affinity)"
  # NAPI kthreads: policy, priority and CPUs of each (a line per kthread)
  for pid in $(napi-dump $IF | awk '$1 == "napi" && $6 != "-" { print $6 }'); do
    echo "kthread $(chrt -p $pid | awk -F': ' '{ print $2 }' | tr '\n' ' ') $(taskset -pc $pid | awk -F': ' '{ print $2 }')"
  done
}

ip link set $IF up
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
  run 0 bpstune verify $config -i $IF
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

# 3. kill -9 at several points of an apply (channels, rings, sysctls, sysfs, NAPIs), then
# rollback: every value is as before. A run killed before its snapshot changed nothing.
for delay in 50000 300000 800000 1500000 1800000 2100000 2500000 4000000; do
  before=$(state)
  bpstune apply napi-busy-poll -i $IF --skip-unsupported >/dev/null 2>&1 &
  usleep $delay
  kill -9 $! 2>/dev/null
  wait $! 2>/dev/null
  # The newest snapshot's state: none yet, interrupted, or complete.
  newest=$(bpstune snapshots list 2>&1 | awk '/-apply/ && /napi-busy-poll/ { s = $0 } END { print s }')
  case "$newest" in
    *interrupted*) killed="interrupted with $(echo "$newest" | awk '{ print $NF }') settings recorded" ;;
    *complete*) killed="after it completed" ;;
    *) killed="before its snapshot" ;;
  esac
  run 0 bpstune rollback
  expect "state after kill -9 at ${delay}us and rollback" "$before" "$(state)"
  finish "kill -9 after $((delay / 1000)) ms ($killed), rollback"
done

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
cat > /tmp/subset.profile <<'PROFILE'
[[interface]]
name = "eth0"
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
  awk -v i="$IF-" 'index($NF, i) == 1 && $NF ~ /-(rx|tx|TxRx)-[0-9]+$/ { sub(":", "", $1); print $1, $NF }' /proc/interrupts |
    while read -r n name; do echo "${name##*-} $name $(cat /proc/irq/$n/smp_affinity_list)"; done | sort -k1,1n -k2,2
}
cat > /tmp/spread.profile <<'PROFILE'
[[interface]]
name = "eth0"
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

cat > /tmp/spread-channels.profile <<'PROFILE'
[[interface]]
name = "eth0"
channels = { combined = 2 }
irq-affinity = { cpus = "@online", mode = "spread" }
PROFILE
before=$(state)
numbers_before=$(awk -v i="$IF-" 'index($NF, i) == 1 && $NF ~ /-(rx|tx|TxRx)-[0-9]+$/ { print $1 }' /proc/interrupts | tr -d '\n')
run 0 bpstune apply /tmp/spread-channels.profile
lists=$(irq_lists)
expect "queue IRQs after combined 2" 4 "$(echo "$lists" | wc -l)"
expect "each queue IRQ on its own CPU" "0 1 2 3" "$(echo "$lists" | awk '{ print $3 }' | sort -n | tr '\n' ' ' | sed 's/ $//')"
run 0 bpstune verify /tmp/spread-channels.profile
numbers_during=$(awk -v i="$IF-" 'index($NF, i) == 1 && $NF ~ /-(rx|tx|TxRx)-[0-9]+$/ { print $1 }' /proc/interrupts | tr -d '\n')
run 0 bpstune rollback
expect "state after rollback (channels and IRQs re-created)" "$before" "$(state)"
numbers_after=$(awk -v i="$IF-" 'index($NF, i) == 1 && $NF ~ /-(rx|tx|TxRx)-[0-9]+$/ { print $1 }' /proc/interrupts | tr -d '\n')
finish "channels 2 and irq-affinity spread in one apply, each IRQ on its own CPU, rollback (IRQs $numbers_before -> $numbers_during -> $numbers_after)"
