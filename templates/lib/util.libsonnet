// Shared helpers for the default obsforge templates.
// Everything here is pure data manipulation: no manifest* and no std.format,
// so evaluation stays fast on libjsonnet 0.18.
{
  // Versions a component gets when the spec leaves `version` out.
  defaultVersions:: {
    prometheus: '2.42',
    alertmanager: '0.25',
    loki: '2.9',
    tempo: '2.2',
    grafana: '10.4',
    otel_collector: '0.96',
  },

  // Field `k` of `o`, or `d` when `o` is null, lacks the field or holds null there.
  get(o, k, d=null)::
    if o == null then d
    else
      local v = std.get(o, k, null);
      if v == null then d else v,

  // `o` without its null-valued fields (only the top level; empty maps and
  // lists are kept, unlike std.prune, because `batch: {}` is meaningful).
  compact(o):: { [k]: o[k] for k in std.objectFields(o) if o[k] != null },

  // A value that may be one object or a list of them, as a list.
  asList(v):: if v == null then [] else if std.isArray(v) then v else [v],

  // The component's spec (never null): stack.spec.components.<name>.
  component(stack, name):: $.get($.get($.get(stack, 'spec', {}), 'components', {}), name, {}),

  // Whether component `name` is enabled in the merged spec.
  enabled(stack, name):: $.get($.component(stack, name), 'enabled', false) == true,

  // The component's version string, or its default.
  version(stack, name)::
    local v = $.get($.component(stack, name), 'version', null);
    if v == null then $.defaultVersions[name] else std.toString(v),

  // stack.spec.values (never null).
  values(stack):: $.get($.get(stack, 'spec', {}), 'values', {}),

  // ---- versions -------------------------------------------------------------

  // '2.9.4' / 'v2.9' / '3.x' -> [2, 9, 4] / [2, 9] / [3, 0]: non-numeric parts count as 0.
  local parseVersion(v) =
    local s = if std.startsWith(v, 'v') then std.substr(v, 1, std.length(v) - 1) else v;
    local numeric(p) = std.length(p) > 0 && std.length([c for c in std.stringChars(p) if c < '0' || c > '9']) == 0;
    [if numeric(p) then std.parseInt(p) else 0 for p in std.split(s, '.')],
  local cmp(a, b, i) =
    local x = if i < std.length(a) then a[i] else 0;
    local y = if i < std.length(b) then b[i] else 0;
    if i >= std.length(a) && i >= std.length(b) then 0
    else if x < y then -1
    else if x > y then 1
    else cmp(a, b, i + 1),

  // True when `version` is the same as or newer than `min` (both dotted strings).
  atLeast(version, min):: cmp(parseVersion(version), parseVersion(min), 0) >= 0,

  // ---- durations ------------------------------------------------------------

  // A Prometheus duration ('15d', '1h30m', '1y', '500ms') as a Go duration
  // ('360h', '1h30m', '8760h', '500ms'): Go's time.ParseDuration has no d/w/y.
  goDuration(d)::
    local s = std.toString(d);
    local unitMs = { y: 31536000000, w: 604800000, d: 86400000, h: 3600000, m: 60000, s: 1000, ms: 1 };
    // Split into (number, unit) pairs with a small state machine over characters.
    local chars = std.stringChars(s);
    local isDigit(c) = c >= '0' && c <= '9';
    local step(acc, c) =
      if isDigit(c) then
        if acc.unit != '' then acc { parts+: [[acc.num, acc.unit]], num: c, unit: '' }
        else acc { num: acc.num + c }
      else acc { unit: acc.unit + c };
    local st = std.foldl(step, chars, { parts: [], num: '', unit: '' });
    local parts = st.parts + (if st.num != '' then [[st.num, st.unit]] else []);
    local bad = std.length(parts) == 0 || std.length([p for p in parts if !std.objectHas(unitMs, p[1])]) > 0;
    if bad then error ('not a Prometheus duration: ' + s)
    else
      local total = std.foldl(function(t, p) t + std.parseInt(p[0]) * unitMs[p[1]], parts, 0);
      local h = std.floor(total / 3600000);
      local m = std.floor((total % 3600000) / 60000);
      local sec = std.floor((total % 60000) / 1000);
      local ms = total % 1000;
      local out = (if h > 0 then std.toString(h) + 'h' else '') +
                  (if m > 0 then std.toString(m) + 'm' else '') +
                  (if sec > 0 then std.toString(sec) + 's' else '') +
                  (if ms > 0 then std.toString(ms) + 'ms' else '');
      if out == '' then '0s' else out,

  // ---- URLs -----------------------------------------------------------------

  // 'https://host:9093/prefix/' -> {scheme: 'https', host: 'host:9093', path: '/prefix'} (no trailing slash).
  // A URL without a port gets the scheme's default (80/443) so it can be a scrape target.
  parseUrl(u)::
    // Only std.startsWith/std.split with one-character separators: std.findSubstr
    // costs milliseconds per call in libjsonnet 0.18.
    local scheme =
      if std.startsWith(u, 'https://') then 'https'
      else if std.startsWith(u, 'http://') then 'http'
      else null;
    local rest = if scheme == null then u else std.substr(u, std.length(scheme) + 3, std.length(u) - std.length(scheme) - 3);
    local segments = std.split(rest, '/');
    local hostPart = segments[0];
    local path = if std.length(segments) > 1 then '/' + std.join('/', segments[1:]) else '';
    local s = if scheme == null then 'http' else scheme;
    local withPort =
      if std.length(std.split(hostPart, ':')) > 1 then hostPart
      else hostPart + (if s == 'https' then ':443' else ':80');
    { scheme: s, host: withPort, path: $.trimSlash(path) },

  // The host part of a URL without its port ('http://a:1/x' -> 'a').
  urlHostname(u):: std.split($.parseUrl(u).host, ':')[0],

  // A URL without its trailing slash.
  trimSlash(u):: if std.endsWith(u, '/') then std.substr(u, 0, std.length(u) - 1) else u,

  // ---- secrets --------------------------------------------------------------

  // The file that holds a secret reference ({secret|secret_file, file}); `what`
  // names the field in the error when C++ did not resolve the reference.
  secretFile(ref, what)::
    if std.isObject(ref) && std.objectHas(ref, 'file') then ref.file
    else error (what + ': expected a secret reference with a resolved `file`'),

  // True for a secret reference (as opposed to a plain string).
  isSecret(v):: std.isObject(v) && (std.objectHas(v, 'secret') || std.objectHas(v, 'secret_file')),
}
