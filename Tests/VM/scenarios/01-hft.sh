# hft on igb: busy_read/busy_poll 50, rx-usecs 100, GRO off; verify; rollback to the start.
. "${0%/*}/lib.sh"
scenario_start
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
scenario_end
