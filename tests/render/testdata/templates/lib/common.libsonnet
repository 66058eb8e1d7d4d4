{
  get(o, k, d):: if std.objectHas(o, k) then o[k] else d,
}
