[sysctl]
"net.core.busy_read" = "50\u0000"
