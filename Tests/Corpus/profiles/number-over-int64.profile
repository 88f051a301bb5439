[sysctl]
"net.core.busy_read" = 9223372036854775808
