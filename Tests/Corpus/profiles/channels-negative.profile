[[interface]]
name = "eth0"
channels = { combined = -1 }
