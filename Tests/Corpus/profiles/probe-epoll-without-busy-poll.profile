[probe]
receive = "epoll"
prefer-busy-poll = true
