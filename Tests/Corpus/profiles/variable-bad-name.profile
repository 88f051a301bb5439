[variables]
"a b" = "1"
