local common = import '../lib/common.libsonnet';
function(stack, env) {
  'prometheus.yml': {
    global: { scrape_interval: common.get(stack.spec.values, 'scrape_interval', '15s') },
    rule_files: ['rules/*.yaml'],
    scrape_configs: [{ job_name: 'prometheus', static_configs: [{ targets: ['127.0.0.1:' + env.ports.prometheus] }] }],
  },
  'env.json': env,
  'stack.json': stack,
}
