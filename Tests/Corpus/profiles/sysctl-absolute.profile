[sysctl]
"/etc/shadow" = 1
