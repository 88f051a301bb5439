# hft on e1000e and on a multiqueue virtio-net: what the driver cannot do is unsupported, naming
# the driver; verify, and a rollback to the exact previous state.
. "${0%/*}/lib.sh"
scenario_start
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
done
scenario_end
