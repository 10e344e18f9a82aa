// Command report turns loadgen's JSON result lines into a table of medians: one row per
// metric, one column per server (the label given to loadgen), and optionally a ratio column.
//
//	go run ./bench/report [-servers a,b,...] [-ratio a/b] [-spread] results.jsonl...
//
// Each metric's median is taken over all runs of its scenario for that server (the rounds).
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
)

// metric is one row of the table.
type metric struct {
	Scenario string
	Field    string // loadgen JSON field
	Name     string
	Format   string
}

var metrics = []metric{
	{"idle", "rss_per_conn_kb", "idle: server RSS per connection (KiB)", "%.2f"},
	{"idle", "opens_per_s", "idle: connections opened/s (while opening)", "%.0f"},
	{"open", "opens_per_s", "open: connections opened/s", "%.0f"},
	{"flood", "server_cpu_us_per_delivery", "flood: server CPU per delivery (µs)", "%.2f"},
	{"flood", "deliveries_per_s", "flood: deliveries/s", "%.0f"},
	{"flood", "p50_ms", "flood: latency p50 (ms)", "%.1f"},
	{"flood", "p99_ms", "flood: latency p99 (ms)", "%.1f"},
	{"flood", "lost", "flood: lost messages", "%.0f"},
	{"flood", "client_cpu_us_per_delivery", "flood: loadgen CPU per delivery (µs)", "%.2f"},
	{"paced", "server_cpu_us_per_delivery", "paced: server CPU per delivery (µs)", "%.2f"},
	{"paced", "p50_ms", "paced: latency p50 (ms)", "%.1f"},
	{"paced", "p99_ms", "paced: latency p99 (ms)", "%.1f"},
	{"paced", "max_ms", "paced: latency max (ms)", "%.1f"},
	{"paced", "lost", "paced: lost messages", "%.0f"},
	{"paced", "client_cpu_us_per_delivery", "paced: loadgen CPU per delivery (µs)", "%.2f"},
}

// runs maps server label → scenario → field → one value per run.
type runs map[string]map[string]map[string][]float64

func main() {
	servers := flag.String("servers", "", "comma-separated server labels, in column order (default: order of appearance)")
	ratio := flag.String("ratio", "", "add a column A/B: the ratio of server A's median to server B's")
	spread := flag.Bool("spread", false, "print min–max beside each median")
	flag.Float64Var(&maxOther, "max-other", 0.10, "leave out runs in which the rest of the machine used more than this share of the CPUs (other_cpu_frac)")
	flag.Parse()
	rs, order := runs{}, []string{}
	for _, name := range flag.Args() {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		order = rs.read(f, order)
		f.Close()
	}
	if *servers != "" {
		order = strings.Split(*servers, ",")
	}
	write(os.Stdout, rs, order, *ratio, *spread)
	if dropped > 0 {
		fmt.Printf("\n%d run(s) left out of the time-based rows (their memory figures are kept): the rest of the machine used more than %.0f%% of the CPUs during them.\n", dropped, 100*maxOther)
	}
}

var (
	maxOther = 1.0 // runs with a larger other_cpu_frac are left out
	dropped  int
)

// read adds every JSON line of r and returns order extended by labels seen for the first time.
func (rs runs) read(r io.Reader, order []string) []string {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) != nil {
			continue
		}
		label, _ := m["label"].(string)
		scenario, _ := m["scenario"].(string)
		if label == "" || scenario == "" {
			continue
		}
		noisy := false
		if frac, _ := m["other_cpu_frac"].(float64); frac > maxOther {
			dropped++
			noisy = true
		}
		if rs[label] == nil {
			rs[label] = map[string]map[string][]float64{}
			order = append(order, label)
		}
		if rs[label][scenario] == nil {
			rs[label][scenario] = map[string][]float64{}
		}
		for _, mt := range metrics {
			if mt.Scenario != scenario || noisy && !strings.HasPrefix(mt.Field, "rss") {
				continue // memory is kept from a noisy run, time-based figures are not
			}
			v, ok := m[mt.Field].(float64)
			if !ok && !(mt.Field == "lost" && m["expected"] != nil) { // loadgen omits lost when 0
				continue // not measured in this run (an older loadgen, or no server PID)
			}
			rs[label][scenario][mt.Field] = append(rs[label][scenario][mt.Field], v)
		}
	}
	return order
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func write(w io.Writer, rs runs, order []string, ratio string, spread bool) {
	a, b, hasRatio := strings.Cut(ratio, "/")
	head := []string{"metric (median of rounds; [n=K] where fewer runs counted)"}
	rounds := 0
	for _, s := range order {
		head = append(head, s)
		for _, sc := range rs[s] {
			for _, v := range sc {
				rounds = max(rounds, len(v))
			}
		}
	}
	if hasRatio {
		head = append(head, a+" / "+b)
	}
	fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(head, " | "), strings.Repeat("---|", len(head)))
	for _, mt := range metrics {
		row := []string{mt.Name}
		any := false
		for _, s := range order {
			v := rs[s][mt.Scenario][mt.Field]
			if len(v) == 0 {
				row = append(row, "–")
				continue
			}
			any = true
			cell := fmt.Sprintf(mt.Format, median(v))
			if spread && len(v) > 1 {
				cell += fmt.Sprintf(" ("+mt.Format+"–"+mt.Format+")", slices.Min(v), slices.Max(v))
			}
			if len(v) < rounds {
				cell += fmt.Sprintf(" [n=%d]", len(v))
			}
			row = append(row, cell)
		}
		if !any {
			continue
		}
		if hasRatio {
			va, vb := median(rs[a][mt.Scenario][mt.Field]), median(rs[b][mt.Scenario][mt.Field])
			if vb != 0 && !math.IsNaN(va) && !math.IsNaN(vb) {
				row = append(row, fmt.Sprintf("%.2f", va/vb))
			} else {
				row = append(row, "–")
			}
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
	}
}
