[[interface]]
name = "eth0"
ring = { rx = 9223372036854775807 }
