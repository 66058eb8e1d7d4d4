// Default Grafana template: grafana.ini plus the datasource and dashboard
// provisioning files. Dashboards, folders and alert rules themselves are written
// and provisioned by obsforge (C++); this only points Grafana at them.
local u = import '../lib/util.libsonnet';

function(stack, env)
  local spec = u.component(stack, 'grafana');
  local version = u.version(stack, 'grafana');
  local cfg = env.dirs.config.grafana;
  local data = env.dirs.data.grafana;
  local admin = u.get(spec, 'admin', {});
  local password = u.get(admin, 'password');
  local orgId = u.get(spec, 'org_id', 1);
  local ds = u.get(env, 'datasources', {});
  local uidOf(kind) = if std.objectHas(ds, kind) then ds[kind].uid else null;
  local values = u.values(stack);

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

  // Grafana expands $VAR / ${VAR} in provisioning values; `$$` is a literal `$`.
  local traceUrl = '$${__value.raw}';

  local jsonDataFor(kind) =
    if kind == 'prometheus' then u.compact({
      httpMethod: 'POST',
      timeInterval: u.get(values, 'scrape_interval', '15s'),
      exemplarTraceIdDestinations:
        if uidOf('tempo') != null then [{ name: 'trace_id', datasourceUid: uidOf('tempo') }] else null,
    })
    else if kind == 'loki' then u.compact({
      derivedFields: if uidOf('tempo') != null then [{
        name: 'TraceID',
        matcherRegex: '(?:trace_?[iI][dD])[=:"\\s]+"?(\\w+)',
        datasourceUid: uidOf('tempo'),
        url: traceUrl,
        urlDisplayLabel: 'View trace',
      }] else null,
      // Loki runs multi-tenant unless auth is disabled: queries need the tenant header.
      httpHeaderName1: if u.get(u.component(stack, 'loki'), 'auth_enabled', true) then 'X-Scope-OrgID' else null,
    })
    else if kind == 'tempo' then u.compact({
      tracesToLogsV2: if uidOf('loki') != null then {
        datasourceUid: uidOf('loki'),
        filterByTraceID: true,
        spanStartTimeShift: '-5m',
        spanEndTimeShift: '5m',
      } else null,
      tracesToMetrics: if uidOf('prometheus') != null then { datasourceUid: uidOf('prometheus') } else null,
      serviceMap: if uidOf('prometheus') != null then { datasourceUid: uidOf('prometheus') } else null,
      lokiSearch: if uidOf('loki') != null then { datasourceUid: uidOf('loki') } else null,
      nodeGraph: { enabled: true },
    })
    else if kind == 'alertmanager' then {
      implementation: 'prometheus',
      handleGrafanaManagedAlerts: false,
    }
    else {};

  local secureFor(kind) =
    if kind == 'loki' && u.get(u.component(stack, 'loki'), 'auth_enabled', true) then
      { httpHeaderValue1: env.tenant }
    else null;

  local order = ['prometheus', 'loki', 'tempo', 'alertmanager'];
  local kinds = [k for k in order if std.objectHas(ds, k)] +
                [k for k in std.objectFields(ds) if !std.member(order, k)];

  local datasource(kind) =
    local d = ds[kind];
    u.compact({
      name: d.name,
      type: d.type,
      uid: d.uid,
      url: d.url,
      access: 'proxy',
      orgId: orgId,
      isDefault: kind == 'prometheus',
      editable: false,
      jsonData: jsonDataFor(kind),
      secureJsonData: secureFor(kind),
    });

  // One file provider per dashboard folder; dashboards without a folder go to
  // Grafana's General folder from `<config>/dashboards/general`. The folder uid is
  // the one obsforge writes the dashboards under: `folder.uid`, else the title when
  // it is already a valid uid. A title that is not (obsforge then derives a hashed
  // uid) gets no file provider: those dashboards are provisioned through the API only.
  local entries = u.get(u.get(stack, 'spec', {}), 'dashboards', []);
  local uidChars = std.set(std.stringChars('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-'));
  local plainUid(t) =
    std.length(t) > 0 && std.length(t) <= 40 &&
    std.length([c for c in std.stringChars(t) if !std.setMember(c, uidChars)]) == 0;
  local folderOf(e) =
    local f = u.get(e, 'folder', {});
    local uid = u.get(f, 'uid', '');
    local title = u.get(f, 'title', '');
    if uid != '' then { uid: uid, title: if title != '' then title else uid }
    else if title == '' then { uid: 'general', title: '' }
    else if plainUid(title) then { uid: title, title: title }
    else null;
  local folders = std.foldl(
    function(acc, e)
      local f = folderOf(e);
      if f == null || std.objectHas(acc, f.uid) then acc else acc { [f.uid]: f },
    entries,
    {}
  );
  local provider(f) = u.compact({
    name: 'obsforge-' + f.uid,
    orgId: orgId,
    type: 'file',
    folder: if f.uid == 'general' then '' else f.title,
    folderUid: if f.uid == 'general' then null else f.uid,
    disableDeletion: false,
    allowUiUpdates: false,
    updateIntervalSeconds: 30,
    options: { path: cfg + '/dashboards/' + f.uid },
  });

  {
    'grafana.ini': ini,
    'provisioning/datasources/obsforge.yaml': u.compact({
      apiVersion: 1,
      // `prune` (11.1+) deletes datasources that disappear from this file.
      prune: if u.atLeast(version, '11.1') then true else null,
      datasources: [datasource(k) for k in kinds],
    }),
    'provisioning/dashboards/obsforge.yaml': {
      apiVersion: 1,
      providers: [provider(folders[uid]) for uid in std.objectFields(folders)],
    },
  }
