[sysctl]
"net.core.busy_read" = "50\n0"
