xl pause db
xl list db
