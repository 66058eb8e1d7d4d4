function(stack, env) { "prometheus.yml": { own: true } }
