PASS	a	a
