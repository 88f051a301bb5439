# Site profile for e"{0}\\n, f\\x1B on names, written by `bpstune init -i e"{0}\\n -i f\\x1B` on
#   2026-01-01
# for Linux 6.12.48+deb13-amd64: 8 online CPUs in 8 cores on 1 NUMA node(s).
# Each setting below says why, with what init read. Run init again after a change of hardware,
# kernel or boot parameters; check with `bpstune diff` before `bpstune apply`.
# NOTE: this host cannot take devices/system/cpu/smt/control (SMT control is notsupported on this
#   machine), which napi-busy-poll sets: apply with --skip-unsupported, or choose another --base

[profile]
description = "Site layout for e\"{0}\\n (NUMA node 0), f\\x1B (NUMA node 0): napi-busy-poll, poll CPUs 1,3, app CPUs 2"
include = ["napi-busy-poll"]

[variables]
# base = napi-busy-poll: no threaded busy polling here (needs 6.19+); e"{0}\\n, f\\x1B has
#   napi_defer_hard_irqs and gro_flush_timeout, so socket busy polling with IRQ deferral
iface = "e\"{0}\\n"
# housekeeping-cpus = 0,4-7: CPU 0's core (0) and every CPU the layout does not use: the operating
#   system, unbound workqueues and other devices' IRQs
housekeeping-cpus = "0,4-7"
# poll-cpus e"{0}\\n = 1: e"{0}\\n (igb) is on NUMA node 0 (local CPUs 0-7): the first free core(s)
#   in the L3 group 0-7, outside housekeeping; its queue IRQs go there too
# poll-cpus f\\x1B = 3: f\\x1B (igb) is on NUMA node 0 (local CPUs 0-7): the first free core(s) in
#   the L3 group 0-7, outside housekeeping; its queue IRQs go there too
poll-cpus = "1"
irq-cpus = "${poll-cpus}"
# app-cpus = 2: the next free core(s) on NUMA node 0, sharing the poll CPUs' L3 cache, apart from
#   them (the guides keep the application and the NIC's IRQs on separate cores of its node)
app-cpus = "2"

[[interface]]
name = "${iface}"
# channels e"{0}\\n = combined 1: one queue pair per poll CPU, so that every queue is polled where
#   its IRQ goes (now combined 8 of at most 8)
channels = { combined = 1 }
# irq-affinity: e"{0}\\n's queue IRQs on its poll CPUs
irq-affinity = "${irq-cpus}"

[[interface]]
name = "f\\x1B"
# channels f\\x1B = combined 1: one queue pair per poll CPU, so that every queue is polled where
#   its IRQ goes (now combined 8 of at most 8)
channels = { combined = 1 }
ring = { rx = 1024 }
# irq-affinity: f\\x1B's queue IRQs on its poll CPUs
irq-affinity = "3"
# the base's settings for ${iface}, for f\\x1B too
coalesce = { adaptive-rx = false, adaptive-tx = false, rx-usecs = 0, tx-usecs = 0 }
gro-flush-timeout = "15us"
napi-defer-hard-irqs = 100
rps-cpus = ""
threaded = false

[interface.napi]
threaded = "disabled"

[cmdline]
# cmdline = isolcpus=1-3 nohz_full=1-3 rcu_nocbs=1-3 irqaffinity=0,4-7: the poll and application
#   CPUs out of the scheduler's general use, without the periodic tick and RCU callbacks; other
#   IRQs on the housekeeping CPUs. Boot parameters are never written: `bpstune cmdline` prints
#   them and a GRUB drop-in; reboot
isolcpus = "1-3"
nohz_full = "1-3"
rcu_nocbs = "1-3"
irqaffinity = "0,4-7"
