probe = "epoll"
