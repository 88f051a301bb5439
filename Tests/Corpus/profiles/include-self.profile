[profile]
include = "include-self.profile"
