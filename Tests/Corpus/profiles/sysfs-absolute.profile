[sysfs]
"/etc/passwd" = "x"
