[[interface]]
name = "eth0"
coalesce = { rx-usecs = -5 }
