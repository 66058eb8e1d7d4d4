local g = import 'grafana.libsonnet';
(import 'mixin.libsonnet') + { _config+:: { selector: 'job="x"' } }
