// obsforge's own test fixture, written for this repository (not third-party code): it sits in
// vendor/ because mixins' jsonnet-bundler dependencies live there, and the renderer must find
// imports in that folder (render_test.cc).
{
  dashboard(title):: {
    title: title,
    uid: 'x-overview',
    panels: [{ type: 'timeseries', datasource: '$datasource', targets: [{ expr: 'up' }] }],
    templating: { list: [{ name: 'datasource', type: 'datasource', query: 'prometheus' }] },
  },
}
