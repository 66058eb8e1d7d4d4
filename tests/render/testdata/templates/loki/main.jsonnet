function(stack, env) { 'loki.yaml': { auth_enabled: false, server: { http_listen_port: env.ports.loki } } }
