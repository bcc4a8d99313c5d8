n     = 2
secrt = "x"
