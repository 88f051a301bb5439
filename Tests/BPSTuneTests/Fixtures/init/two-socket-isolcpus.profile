# Site profile for eth0 on db7, written by `bpstune init -i eth0` on 2026-01-01
# for Linux 7.0.3-amd64: 64 online CPUs in 32 cores on 2 NUMA node(s).
# Each setting below says why, with what init read. Run init again after a change of hardware,
# kernel or boot parameters; check with `bpstune diff` before `bpstune apply`.

[profile]
description = "Site layout for eth0 (NUMA node 1): napi-threaded, poll CPUs 20, app CPUs 21"
include = ["napi-threaded"]

[variables]
# base = napi-threaded: this kernel has threaded busy polling (netdev napi-set takes threaded =
#   busy-poll, Linux 6.19+): a kthread polls the NIC on its own CPU and the application's CPUs
#   take no IRQs
iface = "eth0"
# housekeeping-cpus = 0-19,24-51,54-63: CPU 0's core (0,32) and every CPU the layout does not use:
#   the operating system, unbound workqueues and other devices' IRQs; not 22-23, which the running
#   kernel already isolates (kept isolated)
housekeeping-cpus = "0-19,24-51,54-63"
# poll-cpus eth0 = 20: eth0 (igb) is on NUMA node 1 (local CPUs 16-31,48-63), preferring CPUs
#   already in isolcpus= 20-23: the first free core(s) in the L3 group 16-31,48-63, outside
#   housekeeping; its queue IRQs go there too
poll-cpus = "20"
irq-cpus = "${poll-cpus}"
poll-cpu = "${poll-cpus}"
# app-cpus = 21: the next free core(s) on NUMA node 1, sharing the poll CPUs' L3 cache, apart from
#   them (the guides keep the application and the NIC's IRQs on separate cores of its node)
app-cpus = "21"
# idle-cpus = 52-53: SMT siblings of the poll and application CPUs; napi-threaded turns SMT off,
#   which takes them offline

[[interface]]
name = "${iface}"
# channels eth0 = combined 1: one queue pair per poll CPU, so that every queue is polled where its
#   IRQ goes (now combined 8 of at most 8)
channels = { combined = 1 }
# irq-affinity: eth0's queue IRQs on its poll CPUs
irq-affinity = "${irq-cpus}"

[cmdline]
# cmdline = isolcpus=managed_irq,domain,20-23,52-53 nohz_full=20-23,52-53 rcu_nocbs=20-23,52-53
#   irqaffinity=0-19,24-51,54-63: the poll and application CPUs out of the scheduler's general
#   use, without the periodic tick and RCU callbacks; other IRQs on the housekeeping CPUs; the
#   CPUs the running kernel already has in them are kept. Boot parameters are never written:
#   `bpstune cmdline` prints them and a GRUB drop-in; reboot
isolcpus = "managed_irq,domain,20-23,52-53"
nohz_full = "20-23,52-53"
rcu_nocbs = "20-23,52-53"
irqaffinity = "0-19,24-51,54-63"
