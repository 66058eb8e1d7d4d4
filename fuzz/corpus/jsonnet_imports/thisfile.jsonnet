{ f: std.thisFile, g: importbin 'x.bin' }
