[[interface]]
name = "eth0"
coalesec = { rx-usecs = 5 }
