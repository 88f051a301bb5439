[sysctl]
"net.core.busy_read" = "${nope}"
