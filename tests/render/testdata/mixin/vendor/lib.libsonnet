{
  dashboard(title):: {
    title: title,
    uid: 'x-overview',
    panels: [{ type: 'timeseries', datasource: '$datasource', targets: [{ expr: 'up' }] }],
    templating: { list: [{ name: 'datasource', type: 'datasource', query: 'prometheus' }] },
  },
}
