# What igb cannot take, for the VM tier: a coalescing field it lacks and a ring above its maximum.
[[interface]]
name = "${iface}"
coalesce = { rx-frames = 8 }
ring = { rx = 8192 }
