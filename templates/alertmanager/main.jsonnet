// Default Alertmanager template: alertmanager/alertmanager.yml.
// Secrets reach Alertmanager only through *_file options pointing into env.dirs.secrets.
local u = import '../lib/util.libsonnet';

function(stack, env)
  local spec = u.component(stack, 'alertmanager');
  local version = u.version(stack, 'alertmanager');
  local receiversIn = u.get(spec, 'receivers', []);

  // An explicit "null" receiver when the spec declares none: Alertmanager needs
  // a root route receiver, and a receiver without notifiers drops alerts.
  local receiverSpecs = if std.length(receiversIn) > 0 then receiversIn else [{ name: 'null' }];

  local where(r, kind, i) =
    'spec.components.alertmanager.receivers[' + r.name + '].' + kind + '[' + std.toString(i) + ']';

  local slack(r, s, i) = u.compact({
    api_url_file: u.secretFile(u.get(s, 'webhook'), where(r, 'slack', i) + '.webhook'),
    channel: u.get(s, 'channel'),
    title: u.get(s, 'title'),
    text: u.get(s, 'text'),
    send_resolved: u.get(s, 'send_resolved'),
  });

  local pagerduty(r, p, i) =
    local routing = u.get(p, 'routing_key');
    local service = u.get(p, 'service_key');
    u.compact({
      routing_key_file: if routing != null then u.secretFile(routing, where(r, 'pagerduty', i) + '.routing_key') else null,
      service_key_file: if service != null then u.secretFile(service, where(r, 'pagerduty', i) + '.service_key') else null,
      severity: u.get(p, 'severity'),
      send_resolved: u.get(p, 'send_resolved'),
    });

  local webhook(r, h, i) =
    local url = u.get(h, 'url');
    local secretUrl = u.isSecret(url);
    if secretUrl && !u.atLeast(version, '0.26') then
      error (where(r, 'webhook', i) + '.url: a webhook URL from a secret needs Alertmanager >= 0.26 (url_file); '
             + 'version ' + version + ' only accepts a plain URL')
    else u.compact({
      url: if secretUrl then null else url,
      url_file: if secretUrl then u.secretFile(url, where(r, 'webhook', i) + '.url') else null,
      send_resolved: u.get(h, 'send_resolved'),
    });

  local email(r, m, i) =
    local password = u.get(m, 'auth_password');
    u.compact({
      to: m.to,
      from: u.get(m, 'from'),
      smarthost: u.get(m, 'smarthost'),
      auth_username: u.get(m, 'auth_username'),
      auth_password_file: if password != null then u.secretFile(password, where(r, 'email', i) + '.auth_password') else null,
      send_resolved: u.get(m, 'send_resolved'),
    });

  local configs(r, kind, fn) =
    local items = u.asList(u.get(r, kind));
    if std.length(items) == 0 then null
    else [fn(r, items[i], i) for i in std.range(0, std.length(items) - 1)];

  local receiver(r) = u.compact({
    name: r.name,
    slack_configs: configs(r, 'slack', slack),
    pagerduty_configs: configs(r, 'pagerduty', pagerduty),
    webhook_configs: configs(r, 'webhook', webhook),
    email_configs: configs(r, 'email', email),
  });

  local route(rt) =
    local children = u.get(rt, 'routes', []);
    local matchers = u.get(rt, 'matchers', []);
    u.compact({
      receiver: u.get(rt, 'receiver'),
      group_by: u.get(rt, 'group_by'),
      group_wait: u.get(rt, 'group_wait'),
      group_interval: u.get(rt, 'group_interval'),
      repeat_interval: u.get(rt, 'repeat_interval'),
      matchers: if std.length(matchers) > 0 then matchers else null,
      continue: u.get(rt, 'continue'),
      routes: if std.length(children) > 0 then [route(c) for c in children] else null,
    });

  local rootIn = u.get(spec, 'route', {});
  local root = route(rootIn) + (
    if u.get(rootIn, 'receiver') == null then { receiver: receiverSpecs[0].name } else {}
  );

  local inhibit = u.get(spec, 'inhibit_rules', []);
  local templates = u.get(spec, 'templates', []);

  {
    'alertmanager.yml': u.compact({
      route: root,
      receivers: [receiver(r) for r in receiverSpecs],
      inhibit_rules: if std.length(inhibit) > 0 then inhibit else null,
      // C++ copies the spec's template files into alertmanager/templates/.
      templates: if std.length(templates) > 0 then [env.dirs.config.alertmanager + '/templates/*.tmpl'] else null,
    }),
  }
