// Test fixture: render_test.cc serves it as mixins/x/vendor/lib.libsonnet (the folder where
// jsonnet-bundler puts a mixin's dependencies), where the mixin's import must find it.
{
  dashboard(title):: {
    title: title,
    uid: 'x-overview',
    panels: [{ type: 'timeseries', datasource: '$datasource', targets: [{ expr: 'up' }] }],
    templating: { list: [{ name: 'datasource', type: 'datasource', query: 'prometheus' }] },
  },
}
