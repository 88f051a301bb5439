# Queue IRQ affinity on igb (separate IF-rx-N and IF-tx-N vectors here): spread over the online
# CPUs, round robin in queue order, as /proc/irq/N/smp_affinity_list says, and the default
# affinity; verify; rollback to the start.
. "${0%/*}/lib.sh"
scenario_start
cat > /tmp/spread.profile <<PROFILE
[[interface]]
name = "$IF"
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
scenario_end
