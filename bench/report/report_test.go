package main

import (
	"strings"
	"testing"
)

func TestTableShowsMediansAndRatio(t *testing.T) {
	in := `{"scenario":"idle","label":"sb","rss_per_conn_kb":2}
{"scenario":"idle","label":"node","rss_per_conn_kb":15}
{"scenario":"idle","label":"sb","rss_per_conn_kb":3}
{"scenario":"idle","label":"sb","rss_per_conn_kb":10}
{"scenario":"idle","label":"node","rss_per_conn_kb":16,"opens_per_s":5,"other_cpu_frac":0.5}
{"scenario":"flood","label":"sb","server_cpu_us_per_delivery":4,"expected":10}
not json
`
	maxOther = 0.10
	rs := runs{}
	order := rs.read(strings.NewReader(in), nil)
	var b strings.Builder
	write(&b, rs, order, "sb/node", false)
	out := b.String()
	for _, want := range []string{
		"| idle: server RSS per connection (KiB) | 3.00 | 15.50 [n=2] | 0.19 |",
		"| flood: server CPU per delivery (µs) | 4.00 [n=1] | – | – |",
		"| flood: lost messages | 0 [n=1] | – | – |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "opened/s") {
		t.Errorf("a noisy run's time-based figures should be left out:\n%s", out)
	}
	if strings.Contains(out, "paced") || strings.Contains(out, "write calls") {
		t.Errorf("rows without data should be left out:\n%s", out)
	}
}
