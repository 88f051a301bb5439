[profile]
include = "no-such-profile-anywhere"
