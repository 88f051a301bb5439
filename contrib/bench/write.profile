# make bench's write profile (contrib/bench/run): what `bpstune apply` then `rollback` write on
# the bench's veth vA, against a shell script making the same writes. hft's shape (sysctls, GRO
# and LRO off, a CPU set per queue), but only settings that a veth in a network namespace has
# and that belong to that namespace, so that the bench changes nothing on the host:
# - per-namespace sysctls instead of hft's net.core.busy_read and busy_poll, which are global
#   (present only in the first network namespace: writing them would tune the host);
# - no coalesce (a veth has no interrupt coalescing: ethtool -C is refused) and no IRQ affinity
#   (a veth has no IRQs, and IRQ affinity is the host's): RPS on every rx queue instead, one
#   file per queue as irq-affinity is one file per IRQ.
# The bench turns vA's GRO on first, so that gro = false is a change; LRO is fixed off on a
# veth and is already as asked.
[sysctl]
net.core.somaxconn = 8192
net.ipv4.tcp_fin_timeout = 30
net.ipv4.tcp_keepalive_time = 600
[[interface]]
name = "vA"
features = { gro = false, lro = false }
rps-cpus = "0"
