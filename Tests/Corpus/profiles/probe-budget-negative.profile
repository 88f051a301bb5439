[probe]
busy-poll-budget = -1
