[probe]
receive = "epol"
