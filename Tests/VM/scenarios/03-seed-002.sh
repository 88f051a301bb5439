# The three seed-002 configurations on igb in turn, each applied, checked, verified and rolled
# back to the state before it. SMT control does not exist in the VM ("notsupported"), hence
# --skip-unsupported. Before 6.19 napi-threaded is refused with nothing changed.
. "${0%/*}/lib.sh"
scenario_start
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
  run 0 bpstune rollback
  expect "state after rollback" "$before" "$(state)"
  finish "$config"
done
scenario_end
