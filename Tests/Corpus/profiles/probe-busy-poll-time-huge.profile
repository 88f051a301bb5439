[probe]
busy-poll = "99999999999s"
