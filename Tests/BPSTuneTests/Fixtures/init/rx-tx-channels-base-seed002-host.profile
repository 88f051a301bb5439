# Site profile for eth0 on gve1, written by `bpstune init -i eth0 --base seed002-host` on
#   2026-01-01
# for Linux 6.12.48+deb13-amd64: 8 online CPUs in 8 cores on 1 NUMA node(s).
# Each setting below says why, with what init read. Run init again after a change of hardware,
# kernel or boot parameters; check with `bpstune diff` before `bpstune apply`.
# NOTE: this host cannot take devices/system/cpu/smt/control (SMT control is notsupported on this
#   machine), which seed002-host sets: apply with --skip-unsupported, or choose another --base

[profile]
description = "Site layout for eth0 (NUMA node 0): seed002-host, poll CPUs 1, app CPUs 2"
include = ["seed002-host"]

[variables]
# base = seed002-host: --base seed002-host
iface = "eth0"
# housekeeping-cpus = 0,3-7: CPU 0's core (0) and every CPU the layout does not use: the operating
#   system, unbound workqueues and other devices' IRQs
housekeeping-cpus = "0,3-7"
# poll-cpus eth0 = 1: eth0 (gve) is on NUMA node 0 (local CPUs 0-7): the first free core(s) in the
#   L3 group 0-7, outside housekeeping; its queue IRQs go there too
poll-cpus = "1"
irq-cpus = "${poll-cpus}"
# app-cpus = 2: the next free core(s) on NUMA node 0, sharing the poll CPUs' L3 cache, apart from
#   them (the guides keep the application and the NIC's IRQs on separate cores of its node)
app-cpus = "2"

[[interface]]
name = "${iface}"
# channels eth0 = rx 1, tx 1, combined 0: one queue pair per poll CPU, so that every queue is
#   polled where its IRQ goes (now rx 4 of at most 4, tx 4 of at most 4); combined 0 replaces
#   seed002-host's combined = 1 (a site profile's channels merge into its base's field by field,
#   so a field not written here would stay): gve has no combined channels, and 0 leaves them as
#   they are
channels = { rx = 1, tx = 1, combined = 0 }
# irq-affinity: eth0's queue IRQs on its poll CPUs
irq-affinity = "${irq-cpus}"

[cmdline]
# cmdline = isolcpus=1-2 nohz_full=1-2 rcu_nocbs=1-2 irqaffinity=0,3-7: the poll and application
#   CPUs out of the scheduler's general use, without the periodic tick and RCU callbacks; other
#   IRQs on the housekeeping CPUs. Boot parameters are never written: `bpstune cmdline` prints
#   them and a GRUB drop-in; reboot
isolcpus = "1-2"
nohz_full = "1-2"
rcu_nocbs = "1-2"
irqaffinity = "0,3-7"
