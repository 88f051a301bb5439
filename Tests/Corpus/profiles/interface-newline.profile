[[interface]]
name = "eth0\nrps"
rps-cpus = "1"
