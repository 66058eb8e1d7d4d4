// Default Prometheus template: prometheus/prometheus.yml.
// Retention and --web.enable-lifecycle are command-line flags, set by the runtime.
local u = import '../lib/util.libsonnet';

function(stack, env)
  local spec = u.component(stack, 'prometheus');
  local values = u.values(stack);
  local interval = std.toString(u.get(values, 'scrape_interval', '15s'));
  local evaluation = std.toString(u.get(values, 'evaluation_interval', interval));

  // One static job that scrapes `url` (its host:port and path prefix).
  local componentJob(job, url, metricsPath='/metrics') =
    local p = u.parseUrl(url);
    {
      job_name: job,
      scheme: p.scheme,
      metrics_path: p.path + metricsPath,
      static_configs: [{ targets: [p.host] }],
    };

  local otelMetricsUrl =
    local p = u.parseUrl(env.urls.otel_collector);
    p.scheme + '://' + u.urlHostname(env.urls.otel_collector) + ':' + std.toString(env.ports.otel_collector_metrics);

  local builtin =
    [componentJob('prometheus', env.urls.prometheus)]
    + (if u.enabled(stack, 'alertmanager') then [componentJob('alertmanager', env.urls.alertmanager)] else [])
    + (if u.enabled(stack, 'loki') then [componentJob('loki', env.urls.loki)] else [])
    + (if u.enabled(stack, 'tempo') then [componentJob('tempo', env.urls.tempo)] else [])
    + (if u.enabled(stack, 'grafana') then [componentJob('grafana', env.urls.grafana)] else [])
    + (if u.enabled(stack, 'otel_collector') then [componentJob('otel-collector', otelMetricsUrl)] else []);

  local userJob(j) =
    local labels = u.get(j, 'labels', {});
    u.compact({
      job_name: j.job,
      metrics_path: u.get(j, 'metrics_path'),
      scheme: u.get(j, 'scheme'),
      scrape_interval: u.get(j, 'scrape_interval'),
      scrape_timeout: u.get(j, 'scrape_timeout'),
      honor_labels: u.get(j, 'honor_labels'),
      static_configs: [u.compact({
        targets: j.targets,
        labels: if std.length(labels) > 0 then labels else null,
      })],
    });
  local userJobs = [userJob(j) for j in u.get(spec, 'scrape', [])];

  local builtinNames = { [j.job_name]: true for j in builtin };
  local clashes = [j.job_name for j in userJobs if std.objectHas(builtinNames, j.job_name)];

  local externalLabels = u.get(spec, 'external_labels', {});
  local remoteWrite = u.get(spec, 'remote_write', []);

  local config = u.compact({
    global: u.compact({
      scrape_interval: interval,
      evaluation_interval: evaluation,
      external_labels: if std.length(externalLabels) > 0 then externalLabels else null,
    }),
    rule_files: ['rules/*.yaml'],
    alerting: if u.enabled(stack, 'alertmanager') then
      local am = u.parseUrl(env.urls.alertmanager);
      {
        alertmanagers: [u.compact({
          scheme: am.scheme,
          path_prefix: if am.path != '' then am.path else null,
          api_version: 'v2',
          static_configs: [{ targets: [am.host] }],
        })],
      }
    else null,
    scrape_configs: builtin + userJobs,
    remote_write: if std.length(remoteWrite) > 0 then remoteWrite else null,
  });

  if std.length(clashes) > 0 then
    error ('spec.components.prometheus.scrape: job name "' + clashes[0] + '" is reserved for a built-in job')
  else
    { 'prometheus.yml': config }
