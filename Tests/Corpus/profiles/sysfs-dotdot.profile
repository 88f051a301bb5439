[sysfs]
"kernel/mm/../../../etc/passwd" = "x"
