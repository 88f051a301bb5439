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
#   for i in /sys/devices/virtual/workqueue/*/cpumask; do echo 1,2,3,4,5,6 > $i; done
#   ethtool -L eth0 rx 1 tx 1
#   ethtool -G eth0 rx 1024
#   ethtool -C eth0 adaptive-rx off adaptive-tx off rx-usecs 0 tx-usecs 0
#   # pin IRQs on CPU 2
#   for irq in $IRQS; do echo 2 > /proc/irq/$irq/smp_affinity_list; done
#
# "One rx/tx channel": the series' NIC has separate rx and tx channels (`-L rx 1 tx 1`); most
# NICs (igb, ixgbe, ice, mlx5) have combined ones, where the same thing is `combined 1`, which
# is what this profile asks. On a NIC with separate channels, write
# `channels = { rx = 1, tx = 1, combined = 0 }` in a profile of your own that includes this one:
# tables merge field by field, so without combined = 0 this profile's combined = 1 stays (and is
# a setting such a NIC cannot take). `bpstune init` writes that for such a NIC.

[profile]
description = "Common host setup of the threaded NAPI busy-poll experiment (included by the seed-002 profiles)"

[variables]
iface = "eth0"
housekeeping-cpus = "1-6"   # CPUs for unbound workqueues, as in the experiment
irq-cpus = "2"              # the CPU the queue IRQs are pinned to, as in the experiment

[sysctl]
kernel.timer_migration = 0
net.core.rps_sock_flow_entries = 0
kernel.sched_rt_runtime_us = -1   # no RT throttling: a SCHED_FIFO poller may own its CPU

[sysfs]
"devices/system/cpu/smt/control" = "off"
# The series' `for i in /sys/devices/virtual/workqueue/*/cpumask`: every workqueue with a
# sysfs directory (writeback, blkcg_punt_bio, ...), each its own setting. It does not match
# the global devices/virtual/workqueue/cpumask, and the series does not write that file, so
# neither does this profile. The script echoes the list "1,2,3,4,5,6" into a file that takes
# a hex mask; bpstune writes the mask of CPUs 1-6 (7e), which is what the series means.
"devices/virtual/workqueue/*/cpumask" = "${housekeeping-cpus}"

[[interface]]
name = "${iface}"
threaded = false
rps-cpus = ""      # RPS off on every rx queue
irq-affinity = "${irq-cpus}"   # every queue IRQ of the interface
channels = { combined = 1 }   # one queue pair: re-creates queues, so bpstune applies it first
ring = { rx = 1024 }
coalesce = { adaptive-rx = false, adaptive-tx = false, rx-usecs = 0, tx-usecs = 0 }

# `threaded = false` above is the script's `echo 0 > threaded`. Since Linux 6.17 a NAPI can be
# threaded on its own while that file still reads 0, so every NAPI is also set to disabled
# here: switching from napi-threaded to another configuration stops the busy-poll kthread.
# Kernels without per-NAPI threaded fall back to the device file (the same thing here).
[interface.napi]
threaded = "disabled"
