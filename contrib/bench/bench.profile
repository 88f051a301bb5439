# make bench's profile (contrib/bench/run) and the one contrib/bench/order-functions profiles:
# three sysctls, the features, and the RPS and XPS mask of every queue of the veth vA.
[sysctl]
net.core.busy_read = 50
net.core.busy_poll = 50
net.core.somaxconn = 4096
[[interface]]
name = "vA"
features = { gro = false, lro = false }
rps-cpus = "1"
xps-cpus = "1"
