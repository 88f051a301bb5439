# What this kernel lacks: shown as unsupported with the version it needs, device sysfs used
# where it does the same for every NAPI, and nothing changed by a refused apply.
. "${0%/*}/lib.sh"
scenario_start
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
scenario_end
