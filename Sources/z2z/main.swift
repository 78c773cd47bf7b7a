print("z2z")
