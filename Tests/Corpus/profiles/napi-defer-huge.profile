[[interface]]
name = "eth0"
[interface.napi]
defer-hard-irqs = 4294967296
