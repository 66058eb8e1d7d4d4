// import 'not/this'
/* import "nor/this" */
# import 'hash'
{ a: 'import "x"', b: @'verbatim '' import', c: |||
    text import 'no'
  |||, d: import 'yes.libsonnet' }
