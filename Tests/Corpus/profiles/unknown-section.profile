[sysctls]
"net.core.busy_read" = 50
