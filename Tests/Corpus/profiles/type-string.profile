[sysctl]
"net.core.busy_read" = "fast"
