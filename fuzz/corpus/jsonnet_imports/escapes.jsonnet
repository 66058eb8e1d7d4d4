import 'a\'b' + import "c\\d" + import "e\/f" + import "\u0041"
