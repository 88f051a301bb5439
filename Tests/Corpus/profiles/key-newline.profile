[sysctl]
"net.core.busy_read\nx" = 50
