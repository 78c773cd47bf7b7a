print("z2zd")
