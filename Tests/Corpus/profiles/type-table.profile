[sysctl]
"net.core.busy_read" = { a = 1 }
