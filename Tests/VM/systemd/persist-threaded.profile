# The systemd guest's profile, installed as an admin's own in /etc/bpstune/profiles: seed 002's
# napi-threaded configuration (one channel, rx ring 1024, coalescing off, IRQs pinned, defer
# 100, gro flush 15 µs, the NAPI kthread SCHED_FIFO 50 on its CPU), with queue 0's NAPI
# threaded but not busy-polling. A SCHED_FIFO busy-poll kthread with RT throttling off owns its
# CPU; in the 4-vCPU TCG guest the boot's udev workers soft-locked waiting for that CPU (once in
# three boots), so the guest keeps the kthread and its scheduling without the spinning.
[profile]
description = "napi-threaded with a threaded, not busy-polling, NAPI kthread (the VM tier's systemd guest)"
include = ["napi-threaded"]

[[interface]]
name = "${iface}"

[interface.napi]
threaded = "enabled"
