// Command rule-engine evaluates Prometheus rule files over a month of synthetic series, step by step, as
// "promtool test rules" does, but with the query limits of a production Prometheus: promtool's test engine
// refuses any query that loads more than 10,000 samples, which every 30-day window over a minute of
// scraping exceeds. It prints, as JSON, the CPU time the evaluations took and the value of one query at
// the end; the CPU time counts rule evaluations only, not the loading of samples.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"syscall"
	"time"

	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/promqltest"
	"github.com/prometheus/prometheus/rules"
)

type result struct {
	CPUSeconds  float64  `json:"cpu_seconds"`
	WallSeconds float64  `json:"wall_seconds"`
	Evaluations int      `json:"evaluations"`
	Rules       int      `json:"rules"`
	Value       *float64 `json:"value"`
	RuleErrors  []string `json:"rule_errors"`
}

func cpuTime() time.Duration {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		fail(err)
	}
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano())
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "rule-engine:", err)
	os.Exit(1)
}

func main() {
	load := flag.String("load", "", "file holding one promqltest 'load' command with the input series")
	interval := flag.Duration("interval", time.Minute, "evaluation interval")
	span := flag.Duration("span", 30*24*time.Hour, "how long to evaluate for, from time 0")
	query := flag.String("query", "vector(1)", "instant query to answer at the end")
	flag.Parse()
	input, err := os.ReadFile(*load)
	if err != nil {
		fail(err)
	}
	suite, err := promqltest.NewLazyLoader(string(input), promqltest.LazyLoaderOpts{EnableAtModifier: true, EnableNegativeOffset: true})
	if err != nil {
		fail(err)
	}
	defer suite.Close()
	engine := promql.NewEngine(promql.EngineOpts{
		MaxSamples: 50_000_000, Timeout: 2 * time.Minute, LookbackDelta: 5 * time.Minute,
		EnableAtModifier: true, EnableNegativeOffset: true,
	})
	ctx := context.Background()
	manager := rules.NewManager(&rules.ManagerOptions{
		QueryFunc:    rules.EngineQueryFunc(engine, suite.Storage()),
		AppendableV2: suite.Storage(),
		Context:      ctx,
		NotifyFunc:   func(context.Context, string, ...*rules.Alert) {},
		Logger:       promslog.NewNopLogger(),
	})
	loaded, errs := manager.LoadGroups(*interval, labels.EmptyLabels(), "", nil, false, flag.Args()...)
	if len(errs) > 0 {
		fail(errs[0])
	}
	keys := make([]string, 0, len(loaded))
	for key := range loaded {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	var out result
	groups := make([]*rules.Group, 0, len(keys))
	for _, key := range keys {
		group := loaded[key]
		for _, rule := range group.Rules() {
			out.Rules++
			if alerting, ok := rule.(*rules.AlertingRule); ok {
				alerting.SetRestored(true)
			}
		}
		groups = append(groups, group)
	}
	start := time.Unix(0, 0).UTC()
	end := start.Add(*span)
	var evaluating time.Duration
	wallBefore := time.Now()
	for ts := start; !ts.After(end); ts = ts.Add(*interval) {
		// Samples are appended up to each step, as promtool does: the TSDB head takes recorded samples
		// only near its newest time.
		suite.WithSamplesTill(ts, func(err error) {
			if err != nil {
				fail(err)
			}
			before := cpuTime()
			for _, group := range groups {
				group.Eval(ctx, ts)
			}
			evaluating += cpuTime() - before
			for _, group := range groups {
				for _, rule := range group.Rules() {
					if ruleErr := rule.LastError(); ruleErr != nil && len(out.RuleErrors) < 5 {
						out.RuleErrors = append(out.RuleErrors, fmt.Sprintf("%s at %s: %v", rule.Name(), ts.Sub(start), ruleErr))
					}
				}
			}
		})
		out.Evaluations++
	}
	out.CPUSeconds = evaluating.Seconds()
	out.WallSeconds = time.Since(wallBefore).Seconds()
	answer, err := engine.NewInstantQuery(ctx, suite.Storage(), nil, *query, end)
	if err != nil {
		fail(err)
	}
	got := answer.Exec(ctx)
	if got.Err != nil {
		fail(got.Err)
	}
	if vector, err := got.Vector(); err == nil && len(vector) > 0 {
		value := vector[0].F
		out.Value = &value
	}
	encoded, _ := json.Marshal(out)
	fmt.Println(string(encoded))
}
