# seed002-host -- the host setup common to the three configurations of the threaded NAPI
# busy-poll experiment ("[PATCH net-next v10 0/2] Add support to do threaded napi busy poll",
# Samiullah Khawaja, netdev, 2025-10). Included by interrupts, napi-busy-poll, napi-threaded.
#
# From the series' setup script:
#   echo 0 > /sys/class/net/eth0/threaded
#   echo 0 > /proc/sys/kernel/timer_migration
#   echo off > /sys/devices/system/cpu/smt/control
#   echo 0 > /proc/sys/net/core/rps_sock_flow_entries
#   echo 0 > /sys/class/net/eth0/queues/rx-0/rps_cpus
#   echo -1 > /proc/sys/kernel/sched_rt_runtime_us
#   echo 1,2,3,4,5,6 > /sys/devices/virtual/workqueue/*/cpumask
# Still to come with their issues: ethtool -L rx 1 tx 1, ethtool -G rx 1024, queue IRQs pinned
# to CPU 2, ethtool -C adaptive-rx off adaptive-tx off rx-usecs 0 tx-usecs 0.

[profile]
description = "Common host setup of the threaded NAPI busy-poll experiment (included by the seed-002 profiles)"

[variables]
iface = "eth0"
housekeeping-cpus = "1-6"   # CPUs for unbound workqueues, as in the experiment

[sysctl]
kernel.timer_migration = 0
net.core.rps_sock_flow_entries = 0
kernel.sched_rt_runtime_us = -1   # no RT throttling: a SCHED_FIFO poller may own its CPU

[sysfs]
"devices/system/cpu/smt/control" = "off"
"devices/virtual/workqueue/cpumask" = "${housekeeping-cpus}"

[[interface]]
name = "${iface}"
threaded = false
rps-cpus = ""      # RPS off on every rx queue
