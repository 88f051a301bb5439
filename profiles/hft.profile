# hft -- Busy Poll Sockets for latency-critical sockets, enabled globally.
# Source: Intel, "Open Source Kernel Enhancements for Low Latency Sockets using Busy Poll"
# (the Busy Poll Sockets guide, Linux 3.11+): "Recommended value is 50" for net.core.busy_read,
# 50 for net.core.busy_poll with several sockets (100 for several hundred).
# The guide's NIC advice (rx-usecs 100, GRO and LRO off, queue IRQs on NIC-local CPUs apart
# from the application's) joins this profile as bpstune gains ethtool and IRQ settings.

[profile]
description = "Busy Poll Sockets for latency-critical sockets (Intel BPS guide, Linux 3.11+)"

[variables]
iface = "eth0"

[sysctl]
net.core.busy_read = 50   # µs a blocking read busy-polls the device queue
net.core.busy_poll = 50   # µs poll()/select() busy-poll
