[probe]
receive = "epoll\u001b[2J"
