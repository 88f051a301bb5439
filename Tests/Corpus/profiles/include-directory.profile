[profile]
include = "/etc"
