function(stack, env) {}
