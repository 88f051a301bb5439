[sysctl]
"net.core.busy_read" = true
