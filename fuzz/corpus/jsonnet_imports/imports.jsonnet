local a = import 'lib/a.libsonnet';
local b = importstr "files/b.txt";
{ x: a.y + b, z: import "../c.jsonnet" }
