# polling-budget -- the Linux counterparts of FreeBSD's kern.polling knobs.
# Source: "Interrupts + Polling mode (similar to Linux's NAPI)", freebsd-net, Ed Maste, 2009-04:
# FreeBSD's polling(4) processes packets in batches of each_burst, up to burst per clock tick
# (burst adapts between 1 and burst_max), and reserves user_frac percent of the CPU for user
# processes. Linux's NAPI budgets play those parts:
#   kern.polling.each_burst  -> net.core.dev_weight: packets one device's poll may take per round
#   kern.polling.burst_max   -> net.core.netdev_budget: packets one NET_RX softirq run may take
#   kern.polling.user_frac   -> net.core.netdev_budget_usecs: the time limit of that run, after
#                               which the softirq yields (to ksoftirqd, so user tasks get the CPU)
#   kern.polling.burst       -> (none: the adaptive current value; NAPI has no feedback loop)
#   kern.polling.idle_poll   -> a dedicated polling CPU: threaded busy-poll (napi-threaded)
# IRQ deferral and suspension (napi_defer_hard_irqs, gro_flush_timeout, irq-suspend-timeout)
# are the Linux way of polling instead of taking interrupts (see napi-busy-poll).
# Values: each_burst's FreeBSD default is 5 and burst_max 150 at HZ=1000; Linux's defaults
# (dev_weight 64, netdev_budget 300, netdev_budget_usecs 2 jiffies) already poll in larger
# batches, so this profile sets a bigger budget for hosts that take bursts, and a shorter time
# slice so one softirq run does not hold the CPU longer than 2 ms.

[profile]
description = "NAPI budget: the Linux counterparts of FreeBSD's kern.polling burst and user_frac"

[sysctl]
net.core.dev_weight = 64               # each_burst: packets per device poll (the default, stated)
net.core.netdev_budget = 600           # burst_max: packets per NET_RX run, doubled
net.core.netdev_budget_usecs = 2000    # user_frac: a NET_RX run yields after 2 ms
