# Site profile for eth0 on db7, written by `bpstune init -i eth0 --base napi-busy-poll` on
#   2026-01-01
# for Linux 7.0.3-amd64: 64 online CPUs in 32 cores on 2 NUMA node(s).
# Each setting below says why, with what init read. Run init again after a change of hardware,
# kernel or boot parameters; check with `bpstune diff` before `bpstune apply`.

[profile]
description = "Site layout for eth0 (NUMA node 1): napi-busy-poll, poll CPUs 16, app CPUs 17"
include = ["napi-busy-poll"]

[variables]
# base = napi-busy-poll: --base napi-busy-poll
iface = "eth0"
# housekeeping-cpus = 0-15,18-47,50-63: CPU 0's core (0,32) and every CPU the layout does not use:
#   the operating system, unbound workqueues and other devices' IRQs
housekeeping-cpus = "0-15,18-47,50-63"
# poll-cpus eth0 = 16: eth0 (igb) is on NUMA node 1 (local CPUs 16-31,48-63): the first free
#   core(s) in the L3 group 16-31,48-63, outside housekeeping; its queue IRQs go there too
poll-cpus = "16"
irq-cpus = "${poll-cpus}"
# app-cpus = 17: the next free core(s) on NUMA node 1, sharing the poll CPUs' L3 cache, apart from
#   them (the guides keep the application and the NIC's IRQs on separate cores of its node)
app-cpus = "17"
# idle-cpus = 48-49: SMT siblings of the poll and application CPUs; napi-busy-poll turns SMT off,
#   which takes them offline

[[interface]]
name = "${iface}"
# channels eth0 = combined 1: one queue pair per poll CPU, so that every queue is polled where its
#   IRQ goes (now combined 8 of at most 8)
channels = { combined = 1 }
# irq-affinity: eth0's queue IRQs on its poll CPUs
irq-affinity = "${irq-cpus}"

[cmdline]
# cmdline = isolcpus=16-17,48-49 nohz_full=16-17,48-49 rcu_nocbs=16-17,48-49
#   irqaffinity=0-15,18-47,50-63: the poll and application CPUs out of the scheduler's general
#   use, without the periodic tick and RCU callbacks; other IRQs on the housekeeping CPUs. Boot
#   parameters are never written: `bpstune cmdline` prints them and a GRUB drop-in; reboot
isolcpus = "16-17,48-49"
nohz_full = "16-17,48-49"
rcu_nocbs = "16-17,48-49"
irqaffinity = "0-15,18-47,50-63"
