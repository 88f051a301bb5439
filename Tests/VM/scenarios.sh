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
state() { # every value the scenarios touch, one per line, read independently
  echo "busy_read $(cat /proc/sys/net/core/busy_read)"
  echo "busy_poll $(cat /proc/sys/net/core/busy_poll)"
  echo "rx-usecs $(ethtool_value -c rx-usecs)"
  echo "gro $(ethtool -k $IF | awk '$1 == "generic-receive-offload:" { print $2 }')"
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
finish "igb-limits"
