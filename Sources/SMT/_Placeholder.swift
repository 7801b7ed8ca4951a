// placeholder until the SMT layer lands
