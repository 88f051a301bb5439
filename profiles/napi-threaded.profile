# napi-threaded -- "NAPI threaded busypoll" configuration of the threaded NAPI busy-poll
# experiment (netdev, "Add support to do threaded napi busy poll" v10, 2025-10): the script's
# `enable_threaded` branch on top of the common setup:
#   echo 0 > /proc/sys/net/core/busy_poll
#   echo 0 > /proc/sys/net/core/busy_read
#   echo 100 > /sys/class/net/eth0/napi_defer_hard_irqs
#   echo 15000 > /sys/class/net/eth0/gro_flush_timeout
# then threaded=busy-poll on queue 0's NAPI (netlink napi-set) with its kthread SCHED_FIFO 50
# pinned to one CPU; that part joins this profile with bpstune's NAPI netlink support.

[profile]
description = "Threaded NAPI experiment: threaded busy polling (busy_read/busy_poll 0, defer 100)"
include = ["seed002-host"]

[sysctl]
net.core.busy_read = 0
net.core.busy_poll = 0

[[interface]]
name = "${iface}"
napi-defer-hard-irqs = 100
gro-flush-timeout = 15000
