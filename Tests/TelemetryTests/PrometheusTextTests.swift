// The checker must itself be strict, or the /metrics tests prove nothing.

import Testing

@Suite struct PrometheusTextTests {
    @Test func parsesFamiliesLabelsEscapesAndSpecialValues() throws {
        let text = try PrometheusText(
            #"""
            # HELP a_total Help with \\ and \n inside.
            # TYPE a_total counter
            a_total{x="q\"uo\\te\nnl",y=""} 3
            a_total{x="2",} 1.5e+3 1700000000000
            # TYPE h histogram
            h_bucket{le="0.5"} 1
            h_bucket{le="+Inf"} 2
            h_sum 0.75
            h_count 2
            # TYPE g gauge
            g -Inf
            g{n="nan"} NaN

            """#)
        #expect(text["a_total"]?.type == "counter")
        #expect(text["a_total"]?.help == "Help with \\ and \n inside.")
        #expect(text.value("a_total", ["x": "q\"uo\\te\nnl"]) == 3)
        #expect(text.value("a_total", ["x": "2"]) == 1500)
        #expect(text.value("h_bucket", ["le": "+Inf"]) == 2)
        #expect(text.value("g", [:]) == nil)  // two samples match
        #expect(text.samples("g").first?.value == -.infinity)
        #expect(text.value("g", ["n": "nan"])?.isNaN == true)
    }

    @Test func emptyInputIsAnEmptyExposition() throws {
        #expect(try PrometheusText("").families.isEmpty)
    }

    @Test(arguments: [
        "# TYPE a gauge\na 1",  // no final newline
        "a 1\n",  // no TYPE
        "# TYPE a gauge\na{x=\"1\"} 1\na{x=\"1\"} 2\n",  // duplicate series
        "# TYPE a gauge\n# TYPE a counter\n",  // second TYPE
        "# TYPE a gaug\n",  // unknown type
        "# TYPE a gauge\na{x=\"\\t\"} 1\n",  // unknown escape
        "# TYPE a gauge\na{x=\"open} 1\n",  // unterminated value
        "# TYPE a gauge\na{x=1} 1\n",  // unquoted value
        "# TYPE a gauge\na{1x=\"1\"} 1\n",  // bad label name
        "# TYPE a gauge\na{x=\"1\",x=\"2\"} 1\n",  // duplicate label
        "# TYPE a gauge\na{x=\"1\"}1\n",  // no space before value
        "# TYPE a gauge\na one\n",  // bad value
        "# TYPE a gauge\na Inf\n",  // stricter than ParseFloat: only the documented +Inf/-Inf/NaN
        "# TYPE a gauge\na 1 2 3\n",  // trailing field
        "# TYPE a gauge\n# TYPE b gauge\na 1\nb 1\na{x=\"2\"} 1\n",  // family split in two
        "# TYPE h histogram\nh 1\n",  // bare histogram name
        "# HELP a x\\y\n",  // bad escape in HELP
        "# TYPE 9a gauge\n",  // bad metric name
    ])
    func rejectsMalformedInput(_ input: String) {
        #expect(throws: PrometheusText.ParseError.self) { try PrometheusText(input) }
    }
}
