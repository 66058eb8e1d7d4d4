local lib = import 'lib.libsonnet';  // found in vendor/
{
  _config:: { selector: 'job="x"' },
  prometheusAlerts:: {
    groups: [{ name: 'test-mixin', rules: [{ alert: 'XDown', expr: 'up{' + $._config.selector + '} == 0', 'for': '5m' }] }],
  },
  prometheusRules:: {
    groups: [{ name: 'test-mixin.rules', rules: [{ record: 'x:up', expr: 'sum(up{' + $._config.selector + '})' }] }],
  },
  grafanaDashboards:: { 'x-overview.json': lib.dashboard('X overview') },
}
