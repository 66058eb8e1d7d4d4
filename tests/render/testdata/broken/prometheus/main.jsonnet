function(stack, env) {
  local x = { a: 1 },
  "prometheus.yml": x.missing,
}
