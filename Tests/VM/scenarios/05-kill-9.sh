# kill -9 at every system call of an apply of napi-busy-poll on igb (channels, rings, coalescing,
# sysctls, device sysfs, NAPIs) that changes kernel state or the snapshot, then rollback: every
# value is as before. strace injects SIGKILL on entry to the ordinal-th call of one syscall, so
# each point is hit exactly; the points come from one traced run. strace does not decode a
# SIOCETHTOOL ioctl's command, so the ioctls that follow a -v line of an ethtool setting (its
# read, write and read back) are points; planning's reads elsewhere cannot change anything.
# A rollback's points each need a fresh apply first; under TCG that doubles the cost, so the
# VM tier kills rollbacks on one kernel (the newest; vm-test puts bpstune.rollback_kills=1 on
# its command line), the host tier on all.
. "${0%/*}/lib.sh"
scenario_start
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
grep -q "bpstune.rollback_kills=1" /proc/cmdline && kill_test rollback
scenario_end
