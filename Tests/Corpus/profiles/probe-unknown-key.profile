[probe]
busy_poll = 50
