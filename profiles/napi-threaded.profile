# napi-threaded -- "NAPI threaded busypoll" configuration of the threaded NAPI busy-poll
# experiment (netdev, "Add support to do threaded napi busy poll" v10, 2025-10): the script's
# `enable_threaded` branch on top of the common setup:
#   echo 0 > /proc/sys/net/core/busy_poll
#   echo 0 > /proc/sys/net/core/busy_read
#   echo 100 > /sys/class/net/eth0/napi_defer_hard_irqs
#   echo 15000 > /sys/class/net/eth0/gro_flush_timeout
#   NAPI_ID=$(ynl --family netdev --do queue-get --json '{"ifindex": .., "id": 0, "type": "rx"}' ...)
#   ynl --family netdev --json '{"id": "'${NAPI_ID}'", "threaded": "busy-poll"}'    (napi-set)
#   NAPI_T=$(ynl --family netdev --do napi-get --json '{"id": "'$NAPI_ID'"}' | jq .pid)
#   sudo chrt -f -p 50 $NAPI_T
#   # pin threaded poll thread to CPU 2
#   sudo taskset -pc 2 $NAPI_T
# Threaded busy-poll needs Linux 6.19+; older kernels show it as unsupported.

[profile]
description = "Threaded NAPI experiment: threaded busy polling (busy_read/busy_poll 0, defer 100)"
include = ["seed002-host"]

[variables]
poll-cpu = "2"   # the CPU the busy-poll kthread owns (the script's taskset -pc 2)

[sysctl]
net.core.busy_read = 0
net.core.busy_poll = 0

[[interface]]
name = "${iface}"
napi-defer-hard-irqs = 100
gro-flush-timeout = 15000

[interface.napi]   # merges over seed002-host's threaded = "disabled"
queues = [0]
threaded = "busy-poll"
kthread = { policy = "fifo", priority = 50, cpus = "${poll-cpu}" }
