package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// What prom-client 15 exports by default next to its labelled sibling: a gauge named like a counter.
const gaugeNamedLikeACounter = `# HELP nodejs_active_resources_total Total number of active resources.
# TYPE nodejs_active_resources_total gauge
nodejs_active_resources_total 4
`

const clean = `# HELP http_requests_total Public HTTP requests answered.
# TYPE http_requests_total counter
http_requests_total{method="GET",path="/",status_code="200"} 3
# HELP app_uptime_seconds Seconds since the app started.
# TYPE app_uptime_seconds gauge
app_uptime_seconds 12.5
`

func TestTheTextFormatIsLintedWithPrometheusRules(t *testing.T) {
	problems, err := lintText(strings.NewReader(gaugeNamedLikeACounter))
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 1 || problems[0].Metric != "nodejs_active_resources_total" ||
		problems[0].Text != `non-counter metrics should not have "_total" suffix` {
		t.Fatalf("problems = %v", problems)
	}
	if problems, err := lintText(strings.NewReader(clean)); err != nil || len(problems) != 0 {
		t.Fatalf("clean exposition: problems %v, err %v", problems, err)
	}
}

func TestACounterWithoutHelpOrSuffixIsReported(t *testing.T) {
	problems, err := lintText(strings.NewReader("# TYPE requests counter\nrequests 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{}
	for _, p := range problems {
		texts = append(texts, p.Text)
	}
	if got := strings.Join(texts, "; "); got != `counter metrics should have "_total" suffix; no help text` {
		t.Fatalf("problems = %q", got)
	}
}

func TestUnparsableTextIsAnError(t *testing.T) {
	if _, err := lintText(strings.NewReader("this is { not metrics\n")); err == nil {
		t.Fatal("want a parse error")
	}
}

func TestAScrapeSendsPrometheusHeadersAndLintsTheAnswer(t *testing.T) {
	var accept string
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		accept = r.Header.Get("Accept")
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_, _ = w.Write([]byte(gaugeNamedLikeACounter))
	}))
	defer server.Close()
	problems, err := lintScrape(server.URL+"/metrics", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 1 || problems[0].Metric != "nodejs_active_resources_total" {
		t.Fatalf("problems = %v", problems)
	}
	if !strings.HasPrefix(accept, "application/openmetrics-text;version=1.0.0") {
		t.Fatalf("Accept = %q", accept)
	}
}

func TestAScrapeRefusesWhatIsNoExposition(t *testing.T) {
	for _, c := range []struct {
		status      int
		contentType string
		want        string
	}{
		{500, "text/plain; version=0.0.4", "HTTP 500"},
		{421, "application/json", "HTTP 421"},
		{200, "text/html", `content type "text/html" is no Prometheus exposition format`},
	} {
		server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", c.contentType)
			w.WriteHeader(c.status)
			_, _ = w.Write([]byte(clean))
		}))
		_, err := lintScrape(server.URL, time.Second)
		server.Close()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("%d %s: err = %v, want %q", c.status, c.contentType, err, c.want)
		}
	}
}
