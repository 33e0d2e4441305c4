package swiftdeploy.lib_test

import data.swiftdeploy.lib

test_one_decimal_prints_whole_and_fractional_numbers_alike if {
	lib.one_decimal(10) == "10.0"
	lib.one_decimal(10.0) == "10.0"
	lib.one_decimal(10.5 - 0.5) == "10.0"
	lib.one_decimal(3.2) == "3.2"
	lib.one_decimal(7.45) == "7.5"
	lib.one_decimal(9.96) == "10.0"
	lib.one_decimal(0) == "0.0"
}

test_two_decimals_prints_whole_and_fractional_numbers_alike if {
	lib.two_decimals(2) == "2.00"
	lib.two_decimals(2.0) == "2.00"
	lib.two_decimals(2.41) == "2.41"
	lib.two_decimals(46.9387) == "46.94"
	lib.two_decimals(0.005) == "0.01"
}

test_whole_rounds_to_the_nearest_integer if {
	lib.whole(2004) == "2004"
	lib.whole(2004.0) == "2004"
	lib.whole(2004.4) == "2004"
	lib.whole(2004.5) == "2005"
}

test_number_is_undefined_for_anything_but_a_number if {
	lib.number({"x": 0}, "x") == 0
	lib.number({"x": -1.5}, "x") == -1.5
	every bad in [{}, {"x": null}, {"x": "5"}, {"x": false}, {"x": [1]}] {
		not lib.number(bad, "x")
	}
}

test_number_or_null_gives_null_for_anything_but_a_number if {
	lib.number_or_null({"x": 7.5}, "x") == 7.5
	lib.number_or_null({"x": "7.5"}, "x") == null
	lib.number_or_null({}, "x") == null
}
