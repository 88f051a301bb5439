[[interface]]
name = "eth0"
rps-cpus = "-1"
