function(stack, env) { 'alertmanager.yml': 'route:\n  receiver: x\nreceivers:\n  - name: x\n' }
