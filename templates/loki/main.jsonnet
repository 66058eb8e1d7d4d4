// Default Loki template: loki/loki.yaml (single binary, filesystem storage, tsdb index).
// Loki 2.9 and 3.x differ in the schema they accept (`version` selects): 3.x
// enables structured metadata by default, which needs schema v13; 2.9 gets v12.
local u = import '../lib/util.libsonnet';

function(stack, env)
  local spec = u.component(stack, 'loki');
  local version = u.version(stack, 'loki');
  local v3 = u.atLeast(version, '3.0');
  local data = env.dirs.data.loki;
  local rulesDir = env.dirs.config.loki + '/rules';
  local retention = u.get(u.get(u.values(stack), 'retention', {}), 'logs');
  // The local runtime runs one Loki on loopback: nothing is gained by the ingester waiting 15 s
  // after its ring is healthy (min_ready_duration, for rolling restarts of many ingesters), or
  // by the query frontend and queriers polling for the scheduler every 10 s and 3 s. Without
  // these Loki reports ready after about 16 s; with them in about a second.
  local dev = env.runtime == 'local';

  {
    'loki.yaml': u.compact({
      auth_enabled: u.get(spec, 'auth_enabled', true),
      server: {
        http_listen_address: env.listen,
        http_listen_port: env.ports.loki,
        grpc_listen_address: env.listen,
        grpc_listen_port: env.ports.loki_grpc,
      },
      common: {
        path_prefix: data,
        instance_addr: '127.0.0.1',
        replication_factor: 1,
        ring: { kvstore: { store: 'inmemory' } },
        storage: {
          filesystem: {
            chunks_directory: data + '/chunks',
            rules_directory: rulesDir,
          },
        },
      },
      schema_config: {
        configs: [{
          from: '2024-01-01',
          store: 'tsdb',
          object_store: 'filesystem',
          schema: if v3 then 'v13' else 'v12',
          index: { prefix: 'index_', period: '24h' },
        }],
      },
      storage_config: {
        tsdb_shipper: {
          active_index_directory: data + '/tsdb-index',
          cache_location: data + '/tsdb-cache',
        },
      },
      // The spec's `limits` map is merged last so a stack can override any limit.
      limits_config: u.compact({
        retention_period: retention,
      }) + u.get(spec, 'limits', {}),
      compactor: {
        working_directory: data + '/compactor',
        retention_enabled: true,
        // Required with retention in 3.x; accepted by 2.9 (it defaults to the shared store there).
        delete_request_store: 'filesystem',
      },
      ruler: u.compact({
        storage: { type: 'local', 'local': { directory: rulesDir } },
        rule_path: data + '/ruler-scratch',
        wal: { dir: data + '/ruler-wal' },
        ring: { kvstore: { store: 'inmemory' } },
        enable_api: true,
        alertmanager_url: if u.enabled(stack, 'alertmanager') then env.urls.alertmanager else null,
        // Before 3.2 Loki defaults to the v1 API, which Alertmanager 0.27 removed.
        enable_alertmanager_v2: if u.enabled(stack, 'alertmanager') then true else null,
      }),
      ingester: if dev then { lifecycler: { min_ready_duration: '0s' } } else null,
      frontend: if dev then { scheduler_dns_lookup_period: '1s' } else null,
      frontend_worker: if dev then { dns_lookup_duration: '1s' } else null,
      analytics: { reporting_enabled: false },
    }),
  }
