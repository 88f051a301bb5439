# Site profile for eth0, eth1 on db7, written by `bpstune init -i eth0 -i eth1` on 2026-01-01
# for Linux 7.0.3-amd64: 64 online CPUs in 32 cores on 2 NUMA node(s).
# Each setting below says why, with what init read. Run init again after a change of hardware,
# kernel or boot parameters; check with `bpstune diff` before `bpstune apply`.

[profile]
description = "Site layout for eth0 (NUMA node 1), eth1 (NUMA node 0): napi-threaded, poll CPUs 1,16, app CPUs 17"
include = ["napi-threaded"]

[variables]
# base = napi-threaded: this kernel has threaded busy polling (netdev napi-set takes threaded =
#   busy-poll, Linux 6.19+): a kthread polls the NIC on its own CPU and the application's CPUs
#   take no IRQs
iface = "eth0"
# housekeeping-cpus = 0,2-15,18-32,34-47,50-63: CPU 0's core (0,32) and every CPU the layout does
#   not use: the operating system, unbound workqueues and other devices' IRQs
housekeeping-cpus = "0,2-15,18-32,34-47,50-63"
# poll-cpus eth0 = 16: eth0 (igb) is on NUMA node 1 (local CPUs 16-31,48-63): the first free
#   core(s) in the L3 group 16-31,48-63, outside housekeeping; its queue IRQs go there too
# poll-cpus eth1 = 1: eth1 (igb) is on NUMA node 0 (local CPUs 0-15,32-47): the first free core(s)
#   in the L3 group 0-15,32-47, outside housekeeping; its queue IRQs go there too
poll-cpus = "16"
irq-cpus = "${poll-cpus}"
poll-cpu = "${poll-cpus}"
# app-cpus = 17: the next free core(s) on NUMA node 1, sharing the poll CPUs' L3 cache, apart from
#   them (the guides keep the application and the NIC's IRQs on separate cores of its node)
app-cpus = "17"
# idle-cpus = 33,48-49: SMT siblings of the poll and application CPUs; napi-threaded turns SMT
#   off, which takes them offline

[[interface]]
name = "${iface}"
# channels eth0 = combined 1: one queue pair per poll CPU, so that every queue is polled where its
#   IRQ goes (now combined 8 of at most 8)
channels = { combined = 1 }
# irq-affinity: eth0's queue IRQs on its poll CPUs
irq-affinity = "${irq-cpus}"

[[interface]]
name = "eth1"
# channels eth1 = combined 1: one queue pair per poll CPU, so that every queue is polled where its
#   IRQ goes (now combined 4 of at most 4)
channels = { combined = 1 }
ring = { rx = 1024 }
# irq-affinity: eth1's queue IRQs on its poll CPUs
irq-affinity = "1"
# the base's settings for ${iface}, for eth1 too
coalesce = { adaptive-rx = false, adaptive-tx = false, rx-usecs = 0, tx-usecs = 0 }
gro-flush-timeout = 15000
napi-defer-hard-irqs = 100
rps-cpus = ""
threaded = false

[interface.napi]
# one busy-poll kthread per queue on eth1's poll CPUs (the scheduler gives each SCHED_FIFO kthread
#   a CPU of the set)
queues = [0]
threaded = "busy-poll"
kthread = { policy = "fifo", priority = 50, cpus = "1" }

[cmdline]
# cmdline = isolcpus=1,16-17,33,48-49 nohz_full=1,16-17,33,48-49 rcu_nocbs=1,16-17,33,48-49
#   irqaffinity=0,2-15,18-32,34-47,50-63: the poll and application CPUs out of the scheduler's
#   general use, without the periodic tick and RCU callbacks; other IRQs on the housekeeping CPUs.
#   Boot parameters are never written: `bpstune cmdline` prints them and a GRUB drop-in; reboot
isolcpus = "1,16-17,33,48-49"
nohz_full = "1,16-17,33,48-49"
rcu_nocbs = "1,16-17,33,48-49"
irqaffinity = "0,2-15,18-32,34-47,50-63"
