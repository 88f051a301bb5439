# The Ansible tests' profile: a per-namespace sysctl and a veth's device sysfs, so that the
# playbooks run against a veth in a network namespace and never touch the host's settings.
[profile]
description = "Ansible tests: somaxconn and a veth's IRQ deferral"

[variables]
iface = "vA0"
flush = "20us"

[sysctl]
net.core.somaxconn = 1024

[[interface]]
name = "${iface}"
napi-defer-hard-irqs = 3
gro-flush-timeout = "${flush}"
