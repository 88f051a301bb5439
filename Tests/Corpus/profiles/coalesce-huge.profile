[[interface]]
name = "eth0"
coalesce = { rx-usecs = 4294967296 }
