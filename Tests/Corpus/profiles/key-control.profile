["\u001b[31mred"]
x = 1
