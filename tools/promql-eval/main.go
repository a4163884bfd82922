// promql-eval evaluates PromQL expressions with the Prometheus engine over series written in promtool's
// notation: the dashboards' panel queries are parsed by the real parser, the metric names they read are
// reported from the parsed tree, and each is evaluated over the test fixtures (for the README's picture).
//
// Input (stdin, JSON): {"interval": "1m", "end": "3h", "step": "5m",
//
//	"series": [{"series": "up{job=\"x\"}", "values": "1x180"}], "queries": ["sum(up)"]}
//
// Output (stdout, JSON): one result per query, in order: {"expr", "error", "metrics", "series": [{"labels",
// "points": [[seconds, value], ...]}]}. Exit 0 unless the input itself cannot be read; a query that does not
// parse or evaluate is reported in its result's "error".
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/tsdb"
)

type input struct {
	Interval string   `json:"interval"`
	End      string   `json:"end"`
	Step     string   `json:"step"`
	Series   []series `json:"series"`
	Queries  []string `json:"queries"`
}

type series struct {
	Series string `json:"series"`
	Values string `json:"values"`
}

type curve struct {
	Labels map[string]string `json:"labels"`
	Points [][2]float64      `json:"points"`
}

type result struct {
	Expr    string   `json:"expr"`
	Error   string   `json:"error,omitempty"`
	Metrics []string `json:"metrics"`
	Series  []curve  `json:"series"`
}

func duration(text string) time.Duration {
	d, err := model.ParseDuration(text)
	if err != nil {
		fail("bad duration %q: %v", text, err)
	}
	return time.Duration(d)
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "promql-eval: "+format+"\n", args...)
	os.Exit(2)
}

func load(db *tsdb.DB, p parser.Parser, in input) {
	app := db.Appender(context.Background())
	step := duration(in.Interval).Milliseconds()
	for _, s := range in.Series {
		lbls, values, err := p.ParseSeriesDesc(s.Series + " " + s.Values)
		if err != nil {
			fail("series %s: %v", s.Series, err)
		}
		for i, v := range values {
			if v.Omitted {
				continue
			}
			if _, err := app.Append(0, lbls, int64(i)*step, v.Value); err != nil {
				fail("series %s: %v", s.Series, err)
			}
		}
	}
	if err := app.Commit(); err != nil {
		fail("commit: %v", err)
	}
}

// metricNames lists the metric names an expression's selectors read.
func metricNames(expr parser.Expr) []string {
	seen := map[string]bool{}
	parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
		if selector, ok := node.(*parser.VectorSelector); ok {
			for _, matcher := range selector.LabelMatchers {
				if matcher.Name == labels.MetricName && matcher.Type == labels.MatchEqual {
					seen[matcher.Value] = true
				}
			}
		}
		return nil
	})
	names := make([]string, 0, len(seen))
	for name := range seen {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func evaluate(engine *promql.Engine, db *tsdb.DB, p parser.Parser, in input, expr string) result {
	out := result{Expr: expr, Metrics: []string{}, Series: []curve{}}
	parsed, err := p.ParseExpr(expr)
	if err != nil {
		out.Error = err.Error()
		return out
	}
	out.Metrics = metricNames(parsed)
	start, end := time.Unix(0, 0), time.Unix(0, 0).Add(duration(in.End))
	query, err := engine.NewRangeQuery(context.Background(), db, nil, expr, start, end, duration(in.Step))
	if err != nil {
		out.Error = err.Error()
		return out
	}
	defer query.Close()
	res := query.Exec(context.Background())
	if res.Err != nil {
		out.Error = res.Err.Error()
		return out
	}
	matrix, err := res.Matrix()
	if err != nil {
		out.Error = err.Error()
		return out
	}
	for _, s := range matrix {
		c := curve{Labels: s.Metric.Map(), Points: [][2]float64{}}
		for _, point := range s.Floats {
			c.Points = append(c.Points, [2]float64{float64(point.T) / 1000, point.F})
		}
		out.Series = append(out.Series, c)
	}
	return out
}

func main() {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fail("reading the input: %v", err)
	}
	dir, err := os.MkdirTemp("", "promql-eval")
	if err != nil {
		fail("%v", err)
	}
	defer os.RemoveAll(dir)
	db, err := tsdb.Open(dir, nil, nil, tsdb.DefaultOptions(), nil)
	if err != nil {
		fail("opening a scratch TSDB: %v", err)
	}
	defer db.Close()
	p := parser.NewParser(parser.Options{})
	load(db, p, in)
	engine := promql.NewEngine(promql.EngineOpts{
		Parser: p, MaxSamples: 10_000_000, Timeout: time.Minute, LookbackDelta: 5 * time.Minute,
	})
	results := make([]result, 0, len(in.Queries))
	for _, expr := range in.Queries {
		results = append(results, evaluate(engine, db, p, in, expr))
	}
	if err := json.NewEncoder(os.Stdout).Encode(results); err != nil {
		fail("%v", err)
	}
}
