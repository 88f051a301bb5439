# The host half (issue 17): [sysfs] globs over the per-workqueue cpumasks and every CPU's PM
# QoS limit, [cpu] idle-latency on one CPU, each file read with cat; rollback to the start. And
# [cmdline] against this boot's real command line: vm-test boots the oldest kernel with
# isolcpus=3 and the others without it.
. "${0%/*}/lib.sh"
scenario_start
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
scenario_end
