[sysctl]
"net.core.busy_read" = 50
"net.core.busy_read" = 51
