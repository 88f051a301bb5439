[profile]
include = "/dev/zero"
