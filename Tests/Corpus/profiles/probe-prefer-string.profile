[probe]
prefer-busy-poll = "yes please"
