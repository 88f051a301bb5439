# Channels and IRQ spread in one apply on e1000e and on a multiqueue virtio-net, with verify and
# a rollback to the exact previous state. Queue IRQs come from the names each driver gives them:
# e1000e's IF-rx-0/IF-tx-0, virtio's virtioN-input.Q/virtioN-output.Q. e1000e has no channels:
# unsupported, naming it, refused without --skip-unsupported, and the rest applied with it.
. "${0%/*}/lib.sh"
scenario_start
profile=$(spread_channels_profile)
for driver in e1000e virtio_net; do
  IF=$(iface_of $driver)
  if [ -z "$IF" ]; then
    fail "no $driver interface"
    finish "$driver"
    continue
  fi
  before=$(state)
  out=$(bpstune diff $profile -i $IF 2>&1)
  if ethtool -l $IF >/dev/null 2>&1; then
    run 0 bpstune apply $profile -i $IF
    expect "combined channels" 2 "$(ethtool -l $IF | awk '/^Current/ { c = 1 } c && $1 == "Combined:" { print $2 }')"
    note="combined 2"
  else
    # No channels in this driver: unsupported, naming it, and the rest applied.
    echo "$out" | grep -q "channels.*unsupported: $driver does not support channels" ||
      fail "channels not unsupported with the driver's name: $out"
    run 2 bpstune apply $profile -i $IF
    expect "state after a refused apply" "$before" "$(state)"
    run 0 bpstune apply $profile -i $IF --skip-unsupported
    note="channels unsupported"
  fi
  lists=$(irq_lists)
  count=$(echo "$lists" | grep -c .)
  [ "$count" -ge 2 ] || fail "only $count queue IRQs: $lists"
  cpus_used=$(echo "$lists" | awk '{ print $3 }' | sort -n | uniq | wc -l)
  expected_cpus=$((count < cpus ? count : cpus))
  expect "CPUs used by $count queue IRQs spread" "$expected_cpus" "$cpus_used"
  run 0 bpstune verify $profile -i $IF --ignore-unsupported
  run 0 bpstune rollback
  expect "state after rollback" "$before" "$(state)"
  finish "$note and irq-affinity spread on $driver ($IF): $count queue IRQs ($(echo "$lists" | awk '{ print $2 }' | tr '\n' ' ' | sed 's/ $//')) on $cpus_used CPUs"
done
scenario_end
