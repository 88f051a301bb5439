[[interface]]
name = ""
rps-cpus = "1"
