[[interface]]
name = "eth0"
rps-cpus = "0-4294967296"
