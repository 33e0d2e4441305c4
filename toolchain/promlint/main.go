// Command promlint checks a Prometheus exposition with Prometheus' own lint rules (client_golang's
// promlint: the rules `promtool check metrics` applies), without building Prometheus.
//
//	promlint < metrics.txt                      the text format on stdin
//	promlint http://127.0.0.1:9100/metrics      scraped as Prometheus scrapes (its Accept header,
//	                                            the answer decoded by the content type it names)
//
// It prints one problem a line, "<metric>: <problem>", and exits 1 when there is any, 2 when the exposition
// cannot be read or parsed, 0 when it is clean.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// acceptHeader is what Prometheus 3 sends when it scrapes a target with its default protocols.
const acceptHeader = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5," +
	"application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3," +
	"text/plain;version=0.0.4;q=0.2,*/*;q=0.1"

func main() {
	var (
		problems []promlint.Problem
		err      error
	)
	switch len(os.Args) {
	case 1:
		problems, err = lintText(os.Stdin)
	case 2:
		problems, err = lintScrape(os.Args[1], 10*time.Second)
	default:
		fmt.Fprintln(os.Stderr, "usage: promlint [URL] (without a URL, the exposition is read from stdin)")
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "promlint: %v\n", err)
		os.Exit(2)
	}
	for _, p := range problems {
		fmt.Printf("%s: %s\n", p.Metric, p.Text)
	}
	if len(problems) > 0 {
		os.Exit(1)
	}
}

// lintText lints the Prometheus text format.
func lintText(r io.Reader) ([]promlint.Problem, error) {
	return promlint.New(r).Lint()
}

// lintScrape GETs url as Prometheus does and lints what it answers.
func lintScrape(url string, timeout time.Duration) ([]promlint.Problem, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", acceptHeader)
	req.Header.Set("User-Agent", "Prometheus/3 (swiftdeploy promlint)")
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", fmt.Sprint(timeout.Seconds()))
	resp, err := (&http.Client{Timeout: timeout}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %d", url, resp.StatusCode)
	}
	format := expfmt.ResponseFormat(resp.Header)
	if format == expfmt.FmtUnknown {
		return nil, fmt.Errorf("GET %s: content type %q is no Prometheus exposition format", url, resp.Header.Get("Content-Type"))
	}
	families, err := decodeAll(expfmt.NewDecoder(resp.Body, format))
	if err != nil {
		return nil, fmt.Errorf("GET %s (%s): %w", url, format, err)
	}
	return promlint.NewWithMetricFamilies(families).Lint()
}

func decodeAll(d expfmt.Decoder) ([]*dto.MetricFamily, error) {
	var families []*dto.MetricFamily
	for {
		family := &dto.MetricFamily{}
		switch err := d.Decode(family); err {
		case nil:
			families = append(families, family)
		case io.EOF:
			return families, nil
		default:
			return nil, err
		}
	}
}
