// Default Grafana template: grafana.ini plus empty datasource and dashboard
// provisioning files. Datasources, folders, dashboards and alerting objects are
// provisioned through Grafana's HTTP API by obsforge (C++, from grafana/objects.json).
local u = import '../lib/util.libsonnet';

function(stack, env)
  local spec = u.component(stack, 'grafana');
  local version = u.version(stack, 'grafana');
  local cfg = env.dirs.config.grafana;
  local data = env.dirs.data.grafana;
  local admin = u.get(spec, 'admin', {});
  local password = u.get(admin, 'password');

  local ini = {
    server: {
      http_addr: env.listen,
      http_port: env.ports.grafana,
    },
    paths: {
      data: data,
      logs: data + '/log',
      plugins: data + '/plugins',
      provisioning: cfg + '/provisioning',
    },
    security: u.compact({
      admin_user: u.get(admin, 'user', 'admin'),
      // $__file{} makes Grafana read the value; the secret never appears here.
      admin_password: if password != null then '$__file{' + u.secretFile(password, 'spec.components.grafana.admin.password') + '}' else null,
    }),
    analytics: {
      reporting_enabled: false,
      check_for_updates: false,
      check_for_plugin_updates: false,
    },
    users: { allow_sign_up: false },
  };

  // One rule (templates/README.md "Grafana objects and the Loki ruler"): every Grafana object
  // is provisioned through the HTTP API by obsforge's provision step, never from files, because
  // Grafana refuses API writes to file-provisioned datasources and dashboards. The provisioning
  // files stay (empty) so that a Grafana that had obsforge's objects from files drops them
  // (`prune`, 11.1+) and the API takes them over.
  {
    'grafana.ini': ini,
    'provisioning/datasources/obsforge.yaml': u.compact({
      apiVersion: 1,
      prune: if u.atLeast(version, '11.1') then true else null,
      datasources: [],
    }),
    'provisioning/dashboards/obsforge.yaml': {
      apiVersion: 1,
      providers: [],
    },
  }
