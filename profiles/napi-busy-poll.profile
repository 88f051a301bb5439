# napi-busy-poll -- "SO_BUSYPOLL" configuration of the threaded NAPI busy-poll experiment
# (netdev, "Add support to do threaded napi busy poll" v10, 2025-10): the script run without
# arguments, on top of the common setup:
#   echo 400 > /proc/sys/net/core/busy_read
#   echo 100 > /sys/class/net/eth0/napi_defer_hard_irqs
#   echo 15000 > /sys/class/net/eth0/gro_flush_timeout

[profile]
description = "Threaded NAPI experiment: socket busy polling (busy_read 400, defer 100, gro flush 15 µs)"
include = ["seed002-host"]

[sysctl]
net.core.busy_read = 400

[[interface]]
name = "${iface}"
napi-defer-hard-irqs = 100
gro-flush-timeout = "15us"
