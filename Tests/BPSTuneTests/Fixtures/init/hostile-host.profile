# Site profile for eth0 on evil\n[sysctl]\nnet.core.busy_read = 999\n"x\\n\\, written by `bpstune init
#   -i eth0` on 2026-01-01
# for Linux 6.12.0"\n[cmdline]\nquiet="1: 8 online CPUs in 8 cores on 1 NUMA node(s), a virtual
#   machine (/sys/class/dmi/id/sys_vendor is QEMU\n[sysfs]\n"x" = "1").
# Each setting below says why, with what init read. Run init again after a change of hardware,
# kernel or boot parameters; check with `bpstune diff` before `bpstune apply`.
# NOTE: a virtual machine (/sys/class/dmi/id/sys_vendor is QEMU\n[sysfs]\n"x" = "1"): its vCPUs, SMT
#   siblings and NUMA nodes are what the hypervisor presents and may share physical cores with
#   other guests; measure (bpstune probe) before trusting the layout
# NOTE: /proc/cmdline has isolcpus=do\\main,6-7, which the kernel refuses whole (a flag holds only
#   letters and _; its log says "isolcpus: Invalid flag"): it isolates no CPU, and init keeps
#   neither its CPUs nor its flags
# NOTE: this host cannot take devices/system/cpu/smt/control (SMT control is notsupported on this
#   machine), which napi-busy-poll sets: apply with --skip-unsupported, or choose another --base

[profile]
description = "Site layout for eth0 (NUMA node 0): napi-busy-poll, poll CPUs 1, app CPUs 2"
include = ["napi-busy-poll"]

[variables]
# base = napi-busy-poll: no threaded busy polling here (needs 6.19+); eth0 has
#   napi_defer_hard_irqs and gro_flush_timeout, so socket busy polling with IRQ deferral
iface = "eth0"
# housekeeping-cpus = 0,3-7: CPU 0's core (0) and every CPU the layout does not use: the operating
#   system, unbound workqueues and other devices' IRQs
housekeeping-cpus = "0,3-7"
# poll-cpus eth0 = 1: eth0 (ig"b]\x1B[31m) is on NUMA node 0 (local CPUs 0-7): the first free core(s)
#   in the L3 group 0-7, outside housekeeping; its queue IRQs go there too
poll-cpus = "1"
irq-cpus = "${poll-cpus}"
# app-cpus = 2: the next free core(s) on NUMA node 0, sharing the poll CPUs' L3 cache, apart from
#   them (the guides keep the application and the NIC's IRQs on separate cores of its node)
app-cpus = "2"

[[interface]]
name = "${iface}"
# channels eth0 = combined 1: one queue pair per poll CPU, so that every queue is polled where its
#   IRQ goes (now combined 8 of at most 8)
channels = { combined = 1 }
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
