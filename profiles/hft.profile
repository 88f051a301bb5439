# hft -- Busy Poll Sockets for latency-critical sockets, enabled globally.
# Source: Intel, "Open Source Kernel Enhancements for Low Latency Sockets using Busy Poll"
# (the Busy Poll Sockets guide, Linux 3.11+): "Recommended value is 50" for net.core.busy_read,
# 50 for net.core.busy_poll with several sockets (100 for several hundred).
# NIC, from the same guide's "Tuning and Configuration": "Set the interrupt coalescing
# (ethtool -C setting for rx-usecs) on the network device in the neighborhood of 100" and
# "Use ethtool -K to disable GRO and LRO on the network device to avoid out of order packets".
# Its IRQ advice: "bind application threads and the network device IRQs to separate CPU cores,
# both on the NIC's NUMA node": queue IRQs on the NIC-local CPUs except the application's
# (`--set app-cpus=4-7`; none by default).

[profile]
description = "Busy Poll Sockets for latency-critical sockets (Intel BPS guide, Linux 3.11+)"

[variables]
iface = "eth0"
app-cpus = ""              # the application's CPUs, kept free of queue IRQs

[sysctl]
net.core.busy_read = 50   # µs a blocking read busy-polls the device queue
net.core.busy_poll = 50   # µs poll()/select() busy-poll

[[interface]]
name = "${iface}"          # -i IF picks the NIC
coalesce = { rx-usecs = 100 }
features = { gro = false, lro = false }
irq-affinity = { cpus = "@local", except = "${app-cpus}" }
