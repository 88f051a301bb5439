# Channels changed and queue IRQs spread in the same apply on igb: 4 vectors on 4 CPUs, each on
# its own CPU; rollback restores the previous lists though the IRQs were re-created with new
# numbers.
. "${0%/*}/lib.sh"
scenario_start
profile=$(spread_channels_profile)
before=$(state)
numbers_before=$(queue_irqs | awk "{ printf \"%s \", \$1 }")
run 0 bpstune apply $profile -i $IF
lists=$(irq_lists)
expect "queue IRQs after combined 2" 4 "$(echo "$lists" | wc -l)"
expect "each queue IRQ on its own CPU" "0 1 2 3" "$(echo "$lists" | awk '{ print $3 }' | sort -n | tr '\n' ' ' | sed 's/ $//')"
run 0 bpstune verify $profile -i $IF
numbers_during=$(queue_irqs | awk "{ printf \"%s \", \$1 }")
run 0 bpstune rollback
expect "state after rollback (channels and IRQs re-created)" "$before" "$(state)"
numbers_after=$(queue_irqs | awk "{ printf \"%s \", \$1 }")
finish "channels 2 and irq-affinity spread in one apply, each IRQ on its own CPU, rollback (IRQs $numbers_before -> $numbers_during -> $numbers_after)"
scenario_end
