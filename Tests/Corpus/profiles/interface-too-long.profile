[[interface]]
name = "averyveryverylongname0"
rps-cpus = "1"
