[[interface]]
name = "../../../etc"
rps-cpus = "1"
