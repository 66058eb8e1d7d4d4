// Default OpenTelemetry Collector (contrib) template: otel-collector/config.yaml.
// One pipeline per signal whose backend is enabled: traces -> Tempo (OTLP gRPC),
// metrics -> Prometheus (remote write), logs -> Loki (loki exporter for Loki 2.x,
// Loki 3's native OTLP endpoint otherwise). `pipelines` from the spec is merged
// over these with JSON merge-patch semantics (null deletes).
local u = import '../lib/util.libsonnet';

function(stack, env)
  local spec = u.component(stack, 'otel_collector');
  local version = u.version(stack, 'otel_collector');
  local at(port) = env.listen + ':' + std.toString(port);
  local ratio = u.get(u.get(spec, 'sampling', {}), 'ratio');
  local sampling = ratio != null && ratio < 1;
  local lokiV3 = u.atLeast(u.version(stack, 'loki'), '3.0');
  local lokiAuth = u.get(u.component(stack, 'loki'), 'auth_enabled', true);
  local tenantHeaders = if lokiAuth then { 'X-Scope-OrgID': env.tenant } else null;

  local traces = u.enabled(stack, 'tempo');
  local metrics = u.enabled(stack, 'prometheus');
  local logs = u.enabled(stack, 'loki');
  local lokiExporter = if lokiV3 then 'otlphttp/loki' else 'loki';

  local exporters = u.compact({
    'otlp/tempo': if traces then {
      endpoint: u.parseUrl(env.urls.otlp_grpc).host,
      tls: { insecure: true },
    } else null,
    // Needs Prometheus started with --web.enable-remote-write-receiver.
    prometheusremotewrite: if metrics then {
      endpoint: u.trimSlash(env.urls.prometheus) + '/api/v1/write',
      resource_to_telemetry_conversion: { enabled: true },
    } else null,
    [lokiExporter]: if logs then u.compact({
      endpoint: u.trimSlash(env.urls.loki) + (if lokiV3 then '/otlp' else '/loki/api/v1/push'),
      headers: tenantHeaders,
    }) else null,
    // Used by the fallback pipeline when no backend is enabled, and available to
    // `pipelines` overrides (unused exporters are ignored by the collector).
    debug: {},
  });

  local common = ['memory_limiter'];
  local defaultPipelines = u.compact({
    traces: if traces then {
      receivers: ['otlp'],
      processors: common + (if sampling then ['probabilistic_sampler'] else []) + ['batch'],
      exporters: ['otlp/tempo'],
    } else if !metrics && !logs then {
      receivers: ['otlp'],
      processors: common + ['batch'],
      exporters: ['debug'],
    } else null,
    metrics: if metrics then {
      receivers: ['otlp'],
      processors: common + ['batch'],
      exporters: ['prometheusremotewrite'],
    } else null,
    logs: if logs then {
      receivers: ['otlp'],
      processors: common + ['batch'],
      exporters: [lokiExporter],
    } else null,
  });

  // `service.telemetry.metrics.address` was replaced by `readers` in 0.111.
  local telemetryMetrics =
    if u.atLeast(version, '0.111') then {
      readers: [{ pull: { exporter: { prometheus: { host: env.listen, port: env.ports.otel_collector_metrics } } } }],
    } else {
      address: at(env.ports.otel_collector_metrics),
    };

  {
    'config.yaml': {
      receivers: {
        otlp: {
          protocols: {
            grpc: { endpoint: at(env.ports.otel_otlp_grpc) },
            http: { endpoint: at(env.ports.otel_otlp_http) },
          },
        },
      },
      processors: u.compact({
        memory_limiter: { check_interval: '1s', limit_percentage: 80, spike_limit_percentage: 20 },
        batch: {},
        probabilistic_sampler: if sampling then { sampling_percentage: ratio * 100 } else null,
      }),
      exporters: exporters,
      extensions: {
        health_check: { endpoint: at(env.ports.otel_collector_health) },
      },
      service: {
        extensions: ['health_check'],
        pipelines: std.mergePatch(defaultPipelines, u.get(spec, 'pipelines', {})),
        telemetry: { metrics: telemetryMetrics },
      },
    },
  }
