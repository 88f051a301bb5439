interface = 5
