[profile]
include = "/dev/stdin"
