# irq-suspend -- IRQ suspension (Linux 6.13+): while the application's epoll_wait finds events,
# the NAPI's IRQs stay masked and the application busy-polls; once it finds none, IRQ deferral
# (napi_defer_hard_irqs, gro_flush_timeout) takes over again.
# Sources: the kernel's Documentation/networking/napi.rst, "IRQ suspension": "The per-NAPI config
# parameter irq-suspend-timeout should be set to the maximum time (in nanoseconds) the
# application can have its IRQs suspended", "gro_flush_timeout and napi_defer_hard_irqs can be set
# to low values", "The prefer_busy_poll flag must be set to true ... using the EPIOCSPARAMS
# ioctl", "The application uses epoll ... to trigger NAPI packet processing"; and "setting
# gro_flush_timeout and napi_defer_hard_irqs is the recommended usage, because otherwise setting
# irq-suspend-timeout might not have any discernible effect".
# Values: the series that added it ("[PATCH net-next v5 0/7] Suspend IRQs during application
# busy periods", Joe Damato and Martin Karsten, netdev, 2024-11), its `suspend20` case, which
# the cover letter's results favour among the suspend cases for latency against CPU:
#   suspendX: set defer_hard_irqs to 100, gro_flush_timeout to X,000 (20,000 ns),
#             irq_suspend_timeout to 20,000,000; busy poll via the epoll ioctl
#             (busy_poll_usecs = 0, busy_poll_budget = 64, prefer_busy_poll = true)
# "exactly one iteration of the napi busy loop is invoked when busy_poll_usecs is set to 0".
# The application side is the [probe] section below: bpstune never applies it (only the
# application can), `probe compare` measures this profile with it, `profiles show` says it.
#
# On top of seed002-host, like interrupts, napi-busy-poll and napi-threaded, so that the four
# compare on the same host setup (one queue, its IRQ on ${irq-cpus}); the series itself kept 8
# rx queues and the NIC's default coalescing. Kernels before 6.13 have no napi-set and no
# sysfs file for irq-suspend-timeout: it shows as unsupported (diff, --skip-unsupported).

[profile]
description = "IRQ suspension (Linux 6.13+): irq-suspend-timeout 20 ms, defer 100, gro flush 20 µs; the application busy-polls through epoll with prefer_busy_poll"
include = ["seed002-host"]

[sysctl]
net.core.busy_read = 0   # the application's epoll instance busy-polls, not every socket
net.core.busy_poll = 0

[[interface]]
name = "${iface}"
napi-defer-hard-irqs = 100   # suspend20: defer_hard_irqs 100
gro-flush-timeout = "20us"   # suspend20: gro_flush_timeout 20,000 ns

[interface.napi]   # merges over seed002-host's threaded = "disabled"
irq-suspend-timeout = "20ms"   # suspend20: irq_suspend_timeout 20,000,000 ns; per NAPI (napi-set) only

[probe]                    # the application side; never applied to the host
receive = "epoll"          # napi.rst: "The application uses epoll"
busy-poll = 0              # busy_poll_usecs 0: one busy-poll pass per epoll_wait
busy-poll-budget = 64      # suspend20: busy_poll_budget = 64
prefer-busy-poll = true    # napi.rst: "The prefer_busy_poll flag must be set to true"
