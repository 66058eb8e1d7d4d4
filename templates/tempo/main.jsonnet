// Default Tempo template: tempo/tempo.yaml (single binary, local storage).
// Every receiver gets an explicit `listen:port` endpoint: since Tempo 2.7 the
// defaults bind to localhost only.
local u = import '../lib/util.libsonnet';

function(stack, env)
  local spec = u.component(stack, 'tempo');
  local data = env.dirs.data.tempo;
  local wanted = u.get(spec, 'receivers', ['otlp_grpc', 'otlp_http']);
  local has(r) = std.member(wanted, r);
  local at(port) = env.listen + ':' + std.toString(port);
  local known = ['otlp_grpc', 'otlp_http', 'jaeger_grpc', 'jaeger_thrift_http', 'zipkin'];
  local unknown = [r for r in wanted if !std.member(known, r)];

  local otlp = u.compact({
    grpc: if has('otlp_grpc') then { endpoint: at(env.ports.otlp_grpc) } else null,
    http: if has('otlp_http') then { endpoint: at(env.ports.otlp_http) } else null,
  });
  local jaeger = u.compact({
    grpc: if has('jaeger_grpc') then { endpoint: at(14250) } else null,
    thrift_http: if has('jaeger_thrift_http') then { endpoint: at(14268) } else null,
  });
  local receivers = u.compact({
    otlp: if std.length(otlp) > 0 then { protocols: otlp } else null,
    jaeger: if std.length(jaeger) > 0 then { protocols: jaeger } else null,
    zipkin: if has('zipkin') then { endpoint: at(9411) } else null,
  });

  local retention = u.get(u.get(u.values(stack), 'retention', {}), 'traces');
  // The local runtime runs one Tempo on loopback: its ingester need not wait 15 s after its ring
  // is healthy before it reports ready (min_ready_duration, meant for rolling restarts).
  local dev = env.runtime == 'local';

  if std.length(unknown) > 0 then
    error ('spec.components.tempo.receivers: unknown receiver "' + unknown[0] + '"')
  else if std.length(receivers) == 0 then
    error 'spec.components.tempo.receivers: at least one receiver is needed'
  else {
    'tempo.yaml': {
      server: {
        http_listen_address: env.listen,
        http_listen_port: env.ports.tempo,
        grpc_listen_address: env.listen,
        grpc_listen_port: env.ports.tempo_grpc,
      },
      distributor: { receivers: receivers },
      // The single binary's querier reaches its own query frontend over gRPC;
      // the default address assumes port 9095, which Loki uses here.
      querier: { frontend_worker: { frontend_address: '127.0.0.1:' + std.toString(env.ports.tempo_grpc) } },
      ingester: { lifecycler: { ring: { replication_factor: 1 } } + (if dev then { min_ready_duration: '0s' } else {}) },
      compactor: {
        compaction: u.compact({
          // Tempo durations are Go durations (no `d`): 7d -> 168h.
          block_retention: if retention != null then u.goDuration(retention) else null,
        }),
      },
      storage: {
        trace: {
          backend: 'local',
          wal: { path: data + '/wal' },
          'local': { path: data + '/blocks' },
        },
      },
      usage_report: { reporting_enabled: false },
    },
  }
