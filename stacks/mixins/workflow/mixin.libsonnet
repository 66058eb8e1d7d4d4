// Workflow mixin: alerts, recording rules and a dashboard for batch workflow pipelines
// instrumented with OpenTelemetry (SmartMatch's sync, discovery, enrichment and OSET runs).
//
// The metrics arrive in Prometheus through the OpenTelemetry Collector, so the OTel names are
// written with underscores and counters carry `_total`:
//   workflow.run.total          -> workflow_run_total{workflow_name}
//   workflow.run.status         -> workflow_run_status_total{workflow_name, status}
//   workflow.run.duration_ms    -> workflow_run_duration_ms_bucket{workflow_name, le}
//   workflow.step.status        -> workflow_step_status_total{workflow_name, step_name, status}
//   workflow.step.duration_ms   -> workflow_step_duration_ms_bucket{workflow_name, step_name, le}
//   workflow.retry.count        -> workflow_retry_count_total{workflow_name, step_name}
//   workflow.db.upsert(.duration_ms), workflow.image.uploaded / size_bytes likewise.
// Duration buckets are [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000] ms, so latency
// thresholds sit on bucket boundaries and a quantile can never read above 10000.
//
// Use: (import 'mixin.libsonnet') + {_config+:: {workflowSelector: 'job=~"myapp-.*"'}}
{
  _config:: {
    // Selects the series of the workflows this mixin watches.
    workflowSelector: 'job=~".+"',
    // Label that names a workflow run.
    workflowLabel: 'workflow_name',
    // Alert when more than this share of runs / steps fail over `failureWindow`.
    runFailureRatioThreshold: 0.05,
    stepFailureRatioThreshold: 0.1,
    failureWindow: '15m',
    // p95 latency thresholds in milliseconds (bucket boundaries).
    runP95ThresholdMs: 5000,
    stepP95ThresholdMs: 2500,
    dbUpsertP95ThresholdMs: 1000,
    // Retries per step execution above which a step is considered unhealthy.
    retryRatioThreshold: 0.2,
    // A workflow that should run continuously raises an alert after this long without runs.
    noRunsFor: '2h',
    severityWarning: 'warning',
    severityCritical: 'critical',
    // Dashboard settings.
    dashboardUid: 'workflow-overview',
    dashboardTitle: 'Workflows / Overview',
    dashboardTags: ['workflow', 'mixin'],
    datasourceRegex: '',
  },

  local sel = $._config.workflowSelector,
  local wl = $._config.workflowLabel,

  prometheusRules+:: {
    groups+: [
      {
        name: 'workflow.rules',
        interval: '30s',
        rules: [
          {
            record: 'workflow:run_status:rate5m',
            expr: 'sum by (' + wl + ', status) (rate(workflow_run_status_total{' + sel + '}[5m]))',
          },
          {
            record: 'workflow:run_failures:ratio_rate' + $._config.failureWindow,
            expr: |||
              sum by (%(wl)s) (rate(workflow_run_status_total{%(sel)s, status="failure"}[%(w)s]))
                /
              sum by (%(wl)s) (rate(workflow_run_status_total{%(sel)s}[%(w)s]))
            ||| % { wl: wl, sel: sel, w: $._config.failureWindow },
          },
          {
            record: 'workflow:step_failures:ratio_rate' + $._config.failureWindow,
            expr: |||
              sum by (%(wl)s, step_name) (rate(workflow_step_status_total{%(sel)s, status="failure"}[%(w)s]))
                /
              sum by (%(wl)s, step_name) (rate(workflow_step_status_total{%(sel)s}[%(w)s]))
            ||| % { wl: wl, sel: sel, w: $._config.failureWindow },
          },
          {
            record: 'workflow:run_duration_ms:p95_5m',
            expr: 'histogram_quantile(0.95, sum by (le, ' + wl + ') (rate(workflow_run_duration_ms_bucket{' + sel + '}[5m])))',
          },
          {
            record: 'workflow:step_duration_ms:p95_5m',
            expr: 'histogram_quantile(0.95, sum by (le, ' + wl + ', step_name) (rate(workflow_step_duration_ms_bucket{' + sel + '}[5m])))',
          },
          {
            record: 'workflow:db_upsert_duration_ms:p95_5m',
            expr: 'histogram_quantile(0.95, sum by (le, ' + wl + ', table_name) (rate(workflow_db_upsert_duration_ms_bucket{' + sel + '}[5m])))',
          },
          {
            record: 'workflow:retries_per_step:ratio_rate15m',
            expr: |||
              sum by (%(wl)s, step_name) (rate(workflow_retry_count_total{%(sel)s}[15m]))
                /
              sum by (%(wl)s, step_name) (rate(workflow_step_status_total{%(sel)s}[15m]))
            ||| % { wl: wl, sel: sel },
          },
        ],
      },
    ],
  },

  prometheusAlerts+:: {
    groups+: [
      {
        name: 'workflow.alerts',
        rules: [
          {
            alert: 'WorkflowRunFailures',
            expr: 'workflow:run_failures:ratio_rate' + $._config.failureWindow + ' > ' + $._config.runFailureRatioThreshold,
            'for': '10m',
            labels: { severity: $._config.severityCritical },
            annotations: {
              summary: 'Workflow {{ $labels.' + wl + ' }} runs are failing',
              description: '{{ $value | humanizePercentage }} of {{ $labels.' + wl + ' }} runs failed over ' + $._config.failureWindow + '.',
            },
          },
          {
            alert: 'WorkflowStepFailures',
            expr: 'workflow:step_failures:ratio_rate' + $._config.failureWindow + ' > ' + $._config.stepFailureRatioThreshold,
            'for': '15m',
            labels: { severity: $._config.severityWarning },
            annotations: {
              summary: 'Step {{ $labels.step_name }} of {{ $labels.' + wl + ' }} is failing',
              description: '{{ $value | humanizePercentage }} of executions of this step failed.',
            },
          },
          {
            alert: 'WorkflowRunSlow',
            expr: 'workflow:run_duration_ms:p95_5m > ' + $._config.runP95ThresholdMs,
            'for': '15m',
            labels: { severity: $._config.severityWarning },
            annotations: {
              summary: 'Workflow {{ $labels.' + wl + ' }} p95 duration is {{ $value }}ms',
              description: 'The 95th percentile run duration is above ' + $._config.runP95ThresholdMs + 'ms.',
            },
          },
          {
            alert: 'WorkflowStepSlow',
            expr: 'workflow:step_duration_ms:p95_5m > ' + $._config.stepP95ThresholdMs,
            'for': '15m',
            labels: { severity: $._config.severityWarning },
            annotations: {
              summary: 'Step {{ $labels.step_name }} of {{ $labels.' + wl + ' }} p95 is {{ $value }}ms',
              description: 'The 95th percentile step duration is above ' + $._config.stepP95ThresholdMs + 'ms.',
            },
          },
          {
            alert: 'WorkflowDbUpsertSlow',
            expr: 'workflow:db_upsert_duration_ms:p95_5m > ' + $._config.dbUpsertP95ThresholdMs,
            'for': '15m',
            labels: { severity: $._config.severityWarning },
            annotations: {
              summary: 'Upserts into {{ $labels.table_name }} are slow ({{ $value }}ms p95)',
              description: 'Database upserts from {{ $labels.' + wl + ' }} take longer than ' + $._config.dbUpsertP95ThresholdMs + 'ms at p95.',
            },
          },
          {
            alert: 'WorkflowRetryStorm',
            expr: 'workflow:retries_per_step:ratio_rate15m > ' + $._config.retryRatioThreshold,
            'for': '15m',
            labels: { severity: $._config.severityWarning },
            annotations: {
              summary: 'Step {{ $labels.step_name }} of {{ $labels.' + wl + ' }} retries too often',
              description: '{{ $value | humanize }} retries per step execution (transient errors are piling up).',
            },
          },
          {
            alert: 'WorkflowNotRunning',
            expr: 'sum by (' + wl + ') (increase(workflow_run_total{' + sel + '}[' + $._config.noRunsFor + '])) == 0',
            'for': '10m',
            labels: { severity: $._config.severityWarning },
            annotations: {
              summary: 'Workflow {{ $labels.' + wl + ' }} has not run for ' + $._config.noRunsFor,
              description: 'No runs were recorded; the scheduler or the telemetry pipeline may be down.',
            },
          },
        ],
      },
    ],
  },

  local ds = { type: 'prometheus', uid: '${datasource}' },
  local target(expr, legend) = { refId: 'A', datasource: ds, expr: expr, legendFormat: legend, range: true },
  local ts(id, title, unit, x, y, w, exprs) = {
    id: id,
    type: 'timeseries',
    title: title,
    datasource: ds,
    gridPos: { x: x, y: y, w: w, h: 8 },
    fieldConfig: { defaults: { unit: unit, custom: { fillOpacity: 10, showPoints: 'never' } }, overrides: [] },
    options: { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } },
    targets: [
      target(e[1], e[2]) + { refId: std.char(65 + e[0]) }
      for e in std.mapWithIndex(function(i, p) [i, p[0], p[1]], exprs)
    ],
  },
  local wsel = sel + ', ' + wl + '=~"$workflow"',

  grafanaDashboards+:: {
    'workflow-overview.json': {
      uid: $._config.dashboardUid,
      title: $._config.dashboardTitle,
      tags: $._config.dashboardTags,
      schemaVersion: 39,
      version: 1,
      editable: true,
      graphTooltip: 1,
      refresh: '1m',
      time: { from: 'now-24h', to: 'now' },
      timezone: 'utc',
      annotations: { list: [] },
      links: [],
      templating: {
        list: [
          {
            name: 'datasource',
            label: 'Data source',
            type: 'datasource',
            query: 'prometheus',
            regex: $._config.datasourceRegex,
            current: {},
            hide: 0,
          },
          {
            name: 'workflow',
            label: 'Workflow',
            type: 'query',
            datasource: ds,
            query: { query: 'label_values(workflow_run_total{' + sel + '}, ' + wl + ')', refId: 'workflow' },
            definition: 'label_values(workflow_run_total{' + sel + '}, ' + wl + ')',
            refresh: 2,
            includeAll: true,
            multi: true,
            allValue: '.*',
            current: { selected: true, text: ['All'], value: ['$__all'] },
            options: [],
            sort: 1,
          },
        ],
      },
      panels: [
        ts(1, 'Runs / min by workflow', 'short', 0, 0, 12, [
          ['sum by (' + wl + ') (rate(workflow_run_total{' + wsel + '}[$__rate_interval])) * 60', '{{' + wl + '}}'],
        ]),
        ts(2, 'Run outcomes / min', 'short', 12, 0, 12, [
          ['sum by (' + wl + ', status) (rate(workflow_run_status_total{' + wsel + '}[$__rate_interval])) * 60', '{{' + wl + '}} {{status}}'],
        ]),
        ts(3, 'Run duration p50 / p95', 'ms', 0, 8, 12, [
          ['histogram_quantile(0.5, sum by (le, ' + wl + ') (rate(workflow_run_duration_ms_bucket{' + wsel + '}[$__rate_interval])))', 'p50 {{' + wl + '}}'],
          ['histogram_quantile(0.95, sum by (le, ' + wl + ') (rate(workflow_run_duration_ms_bucket{' + wsel + '}[$__rate_interval])))', 'p95 {{' + wl + '}}'],
        ]),
        ts(4, 'Step duration p95', 'ms', 12, 8, 12, [
          ['histogram_quantile(0.95, sum by (le, ' + wl + ', step_name) (rate(workflow_step_duration_ms_bucket{' + wsel + '}[$__rate_interval])))', '{{' + wl + '}}/{{step_name}}'],
        ]),
        ts(5, 'Step failure ratio', 'percentunit', 0, 16, 12, [
          ['sum by (' + wl + ', step_name) (rate(workflow_step_status_total{' + wsel + ', status="failure"}[$__rate_interval])) / sum by (' + wl + ', step_name) (rate(workflow_step_status_total{' + wsel + '}[$__rate_interval]))', '{{' + wl + '}}/{{step_name}}'],
        ]),
        ts(6, 'Retries / min by step', 'short', 12, 16, 12, [
          ['sum by (' + wl + ', step_name) (rate(workflow_retry_count_total{' + wsel + '}[$__rate_interval])) * 60', '{{' + wl + '}}/{{step_name}}'],
        ]),
      ],
    },
  },
}
