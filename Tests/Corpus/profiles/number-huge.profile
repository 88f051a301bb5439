[sysctl]
"net.core.busy_read" = 99999999999999999999999
