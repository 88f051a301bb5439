[sysctl]
"net.core.busy_read" = nan
