# so-busy-poll -- for applications that set SO_BUSY_POLL on their own sockets.
# Source: "14.6 Busy Poll Sockets" (book chapter): "If you use SO_BUSY_POLL, we recommend
# setting the global sysctl.net.busy_read to 0, leaving control entirely to the application";
# net.core.busy_poll = 50 as in the Intel BPS guide. The same NIC tuning as hft follows as
# bpstune gains ethtool and IRQ settings.

[profile]
description = "Busy polling only on sockets that ask with SO_BUSY_POLL: busy_read 0, busy_poll 50"

[sysctl]
net.core.busy_read = 0
net.core.busy_poll = 50
