region   = "file"
replicas = 2
unknown  = true
