[sysctl]
"net.core.busy_read" = [50]
