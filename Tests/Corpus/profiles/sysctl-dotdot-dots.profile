[sysctl]
"net.core.....kernel.x" = 1
