function(stack, env) {
  'grafana.ini': {
    server: { http_port: env.ports.grafana, http_addr: env.listen },
    security: { admin_password: '$__file{' + stack.spec.components.grafana.admin.password.file + '}' },
  },
}
