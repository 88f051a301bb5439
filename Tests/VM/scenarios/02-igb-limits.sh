# igb's coalescing and rings as the driver reports them (issue 3's per-field support).
. "${0%/*}/lib.sh"
scenario_start
out=$(bpstune diff /profiles-extra/igb-limits.profile -i $IF 2>&1)
echo "$out" | grep -q "igb: rx-frames not supported" || fail "no 'igb: rx-frames not supported' in: $out"
echo "$out" | grep -q "rx ring max is 4096" || fail "no 'rx ring max is 4096' in: $out"
ethtool -g $IF | grep -q "^RX:[[:space:]]*4096" || fail "ethtool -g does not say RX max 4096"
expect "ethtool -c rx-frames (the driver lacks it)" "n/a" "$(ethtool_value -c rx-frames)"
finish "igb-limits"
scenario_end
