# hft-host -- hft plus the CPU half of the host the Intel Busy Poll Sockets guide measured on.
# Source: Intel, "Open Source Kernel Enhancements for Low Latency Sockets using Busy Poll",
# "Hardware Configuration": "Hyperthreading: Off", "Turbo mode: On", "C1E Support: Off"; and its
# tuning notes: "I/O Memory Management Unit (IOMMU) support should be disabled for optimal
# performance". The book chapter on busy polling gives the same IOMMU advice and keeps the
# application's cores apart from the IRQ cores; isolating them is the threaded busy-poll
# series' practice. Boot parameters ([cmdline]) are never written: `bpstune cmdline hft-host`
# prints them and a GRUB drop-in, and diff/verify report them as "needs reboot".

[profile]
description = "hft plus the guide's CPU half: SMT off, C1E and deep C-states off, performance governor, IOMMU off, app CPUs isolated"
include = ["hft"]

[variables]
app-cpus = "1"             # the application's CPUs (--set app-cpus=...): isolated, and kept free of queue IRQs
latency-cpus = "@online"   # CPUs kept out of deep idle: the app and IRQ CPUs (all NIC-local CPUs on one socket)

[cpu]
cpus = "${latency-cpus}"
smt = false                # guide: "Hyperthreading: Off"
boost = true               # guide: "Turbo mode: On"
governor = "performance"   # full speed without ramp-up delay (tuned's latency-performance does the same)
idle-states = ["C1E"]      # guide: "C1E Support: Off" (a BIOS switch there; the cpuidle state here)
idle-latency = "3us"       # deeper C-states off: only states waking within 3 µs (C1), tuned latency-performance's limit

[cmdline]
intel_iommu = "off"        # guide: "IOMMU support should be disabled" (Intel VT-d)
amd_iommu = "off"          # the same on AMD hosts
isolcpus = "${app-cpus}"   # the application's CPUs out of the scheduler's general use
nohz_full = "${app-cpus}"  # and without the periodic tick while one task runs there
