# so-busy-poll -- for applications that set SO_BUSY_POLL on their own sockets.
# Source: "14.6 Busy Poll Sockets" (book chapter): "If you use SO_BUSY_POLL, we recommend
# setting the global sysctl.net.busy_read to 0, leaving control entirely to the application";
# net.core.busy_poll = 50 as in the Intel BPS guide, and the same NIC tuning as hft (the
# guide's rx-usecs 100, GRO and LRO off; the book says the same: "increase the NIC's interrupt
# coalescing time (rx-usecs), for example, to 100" and "ethtool -K eth0 gro off lro off").

[profile]
description = "Busy polling only on sockets that ask with SO_BUSY_POLL: busy_read 0, busy_poll 50"

[variables]
iface = "eth0"

[sysctl]
net.core.busy_read = 0
net.core.busy_poll = 50

[[interface]]
name = "${iface}"
coalesce = { rx-usecs = 100 }
features = { gro = false, lro = false }
