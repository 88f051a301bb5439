[[interface]]
name = "eth0"
[interface.napi]
threaded = "enabled"
kthread = { policy = "fifo", priority = 1000, cpus = "0" }
