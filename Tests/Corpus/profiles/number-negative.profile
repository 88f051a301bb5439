[sysctl]
"net.core.busy_read" = -1
