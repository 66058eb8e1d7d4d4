{ prometheusAlerts+:: {}, _config+:: {} }
