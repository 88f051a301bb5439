# interrupts -- "Interrupt Only" configuration of the threaded NAPI busy-poll experiment
# (netdev, "Add support to do threaded napi busy poll" v10, 2025-10): the script's
# `enable_interrupt` branch on top of the common setup:
#   echo 0 > /proc/sys/net/core/busy_read
#   echo 0 > /sys/class/net/eth0/napi_defer_hard_irqs
#   echo 15000 > /sys/class/net/eth0/gro_flush_timeout

[profile]
description = "Threaded NAPI experiment: interrupts only (busy_read 0, no IRQ deferral)"
include = ["seed002-host"]

[sysctl]
net.core.busy_read = 0

[[interface]]
name = "${iface}"
napi-defer-hard-irqs = 0
gro-flush-timeout = 15000   # ns
