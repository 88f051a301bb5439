[sysctl]
"net.core/../../../../etc/passwd" = 1
