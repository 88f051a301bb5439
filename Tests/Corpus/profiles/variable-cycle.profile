[variables]
a = "${b}"
b = "${a}"
[sysctl]
"net.core.busy_read" = "${a}"
