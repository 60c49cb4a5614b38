// Command rule-engine measures what rule sets cost Prometheus' own rule manager and query engine in a
// steady state: a month of synthetic request counters is written into a real TSDB (compacted into blocks
// as a server does), the recorded series the rules read over ranges are evaluated over that month too
// (untimed), and then every group of every rule set runs at its own interval over the timed span, the
// sets taking turns at each step. The timed span is repeated for each round, one after the other on the
// same history. It prints, as JSON, the CPU time and the samples each set's evaluations took in each round,
// and the value of one query per set at the end beside the value counted by hand.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"syscall"
	"time"

	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
)

const (
	job                    = "checkout"
	peakRequestsPerSecond  = 50.0
	baseErrorRatio         = 0.0003
	notFoundRatio          = 0.02
	compactEvery           = 2 * time.Hour
	maxBlockDuration       = 72 * time.Hour // a tenth of a 30-day retention, as Prometheus sizes its blocks
	queryTimeout           = 2 * time.Minute
	maxSamplesPerQuery     = 50_000_000
	lookbackDelta          = 5 * time.Minute
	epochSeconds           = 1_767_225_600 // 2026-01-01T00:00:00Z, so blocks line up with days
	minutesPerDay          = 24 * 60
	setsFlagDescription    = "JSON file: a list of {name, file, query}, one per rule set"
	preloadFlagDescription = "days of history written and evaluated before the timed span"
)

// A burst of errors: (day, minute of the day, minutes, error ratio), at odd minutes so none lines up with
// an hour or a tile.
var bursts = [][4]float64{{2, 14*60 + 17, 40, 0.2}, {9, 3*60 + 41, 25, 0.5}, {16, 20*60 + 5, 90, 0.05}, {24, 11*60 + 53, 15, 1}}

type ruleSet struct {
	Name  string `json:"name"`
	File  string `json:"file"`
	Query string `json:"query"`

	groups       []*rules.Group
	preload      []*rules.Group
	counting     bool
	round        int
	samples      []int64
	cpu          []time.Duration
	evaluations  []int
	preloadRules int
	preloadCPU   time.Duration
}

type roundResult struct {
	CPUSeconds           float64 `json:"cpu_seconds"`
	GroupEvaluations     int     `json:"group_evaluations"`
	Samples              int64   `json:"samples"`
	SamplesPerEvaluation float64 `json:"samples_per_evaluation"`
}

type setResult struct {
	Name           string        `json:"name"`
	Rules          int           `json:"rules"`
	PreloadedRules int           `json:"preloaded_rules"`
	Rounds         []roundResult `json:"rounds"`
	Value          *float64      `json:"value"`
	RuleErrors     []string      `json:"rule_errors"`
}

type result struct {
	Series         int         `json:"series"`
	PreloadSeconds float64     `json:"preload_seconds"`
	Blocks         int         `json:"blocks"`
	HandRemaining  float64     `json:"hand_remaining"`
	Sets           []setResult `json:"sets"`
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "rule-engine:", err)
	os.Exit(1)
}

func cpuTime() time.Duration {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		fail(err)
	}
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano())
}

// requestsPerSecond is the daily shape: a trough at 04:00 a fifth of the 16:00 peak.
func requestsPerSecond(seconds float64) float64 {
	hour := math.Mod(seconds, 86400) / 3600
	return peakRequestsPerSecond * (0.6 - 0.4*math.Cos(2*math.Pi*(hour-4)/24))
}

func errorRatio(seconds float64) float64 {
	minute := seconds / 60
	for _, burst := range bursts {
		first := burst[0]*minutesPerDay + burst[1]
		if first <= minute && minute < first+burst[2] {
			return burst[3]
		}
	}
	return baseErrorRatio
}

// traffic holds the counters of every instance and status code, advanced one scrape at a time.
type traffic struct {
	shares   []float64
	labels   []labels.Labels
	refs     []storage.SeriesRef
	values   []float64
	errors   []float64 // per scrape, the errors and requests counted by hand, for the remaining budget
	requests []float64
}

func newTraffic(instances int) *traffic {
	t := &traffic{}
	total := float64(instances * (instances + 1) / 2)
	for i := 0; i < instances; i++ {
		share := float64(instances-i) / total // 4 instances: 0.4, 0.3, 0.2, 0.1
		for _, code := range []string{"200", "404", "500"} {
			t.shares = append(t.shares, share)
			t.labels = append(t.labels, labels.FromStrings(
				"__name__", "http_requests_total", "job", job, "instance", fmt.Sprintf("i-%03d", i), "code", code))
			t.refs = append(t.refs, 0)
			t.values = append(t.values, 0)
		}
	}
	return t
}

// advance adds the traffic of the scrape interval that ends at seconds and appends every counter.
func (t *traffic) advance(app storage.Appender, seconds, scrape float64) error {
	middle := seconds - scrape/2
	all := requestsPerSecond(middle) * scrape
	failed := all * errorRatio(seconds-scrape)
	t.errors = append(t.errors, failed)
	t.requests = append(t.requests, all)
	for i, series := range t.labels {
		served := (all - failed) * t.shares[i]
		switch series.Get("code") {
		case "500":
			t.values[i] += failed * t.shares[i]
		case "404":
			t.values[i] += served * notFoundRatio
		default:
			t.values[i] += served * (1 - notFoundRatio)
		}
		ref, err := app.Append(t.refs[i], series, int64((epochSeconds+seconds)*1000), t.values[i])
		if err != nil {
			return err
		}
		t.refs[i] = ref
	}
	return nil
}

// remaining is the share of a 99.9% budget left over the last scrapes scrapes, counted by hand.
func (t *traffic) remaining(scrapes int, budget float64) float64 {
	var errors, requests float64
	for i := max(0, len(t.errors)-scrapes); i < len(t.errors); i++ {
		errors += t.errors[i]
		requests += t.requests[i]
	}
	return 1 - errors/requests/budget
}

// readOverRanges names the metrics an expression reads through a range (a range selector or anything
// inside a subquery), and every metric it reads at all.
func readOverRanges(expr parser.Expr) (ranged, all map[string]bool) {
	ranged, all = map[string]bool{}, map[string]bool{}
	parser.Inspect(expr, func(node parser.Node, path []parser.Node) error {
		selector, ok := node.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		all[selector.Name] = true
		for _, parent := range path {
			switch parent.(type) {
			case *parser.MatrixSelector, *parser.SubqueryExpr:
				ranged[selector.Name] = true
			}
		}
		return nil
	})
	return ranged, all
}

// preloadGroups are the recording rules whose output some rule reads over a range, with the recording
// rules those read: what must have a month of history for the timed span to be a steady state.
func preloadGroups(groups []*rules.Group, options *rules.ManagerOptions) []*rules.Group {
	recorded, needed := map[string]bool{}, map[string]bool{}
	reads := map[rules.Rule]map[string]bool{}
	for _, group := range groups {
		for _, rule := range group.Rules() {
			if _, ok := rule.(*rules.RecordingRule); ok {
				recorded[rule.Name()] = true
			}
			ranged, all := readOverRanges(rule.Query())
			reads[rule] = all
			for name := range ranged {
				needed[name] = true
			}
		}
	}
	for grown := true; grown; {
		grown = false
		for _, group := range groups {
			for _, rule := range group.Rules() {
				if _, ok := rule.(*rules.RecordingRule); !ok || !needed[rule.Name()] {
					continue
				}
				for name := range reads[rule] {
					if recorded[name] && !needed[name] {
						needed[name], grown = true, true
					}
				}
			}
		}
	}
	var preload []*rules.Group
	for _, group := range groups {
		var kept []rules.Rule
		for _, rule := range group.Rules() {
			if _, ok := rule.(*rules.RecordingRule); ok && needed[rule.Name()] {
				kept = append(kept, rule)
			}
		}
		if len(kept) > 0 {
			preload = append(preload, rules.NewGroup(rules.GroupOptions{
				Name: group.Name() + "-preload", File: group.File(), Interval: group.Interval(), Rules: kept, Opts: options,
			}))
		}
	}
	return preload
}

func due(seconds int64, every time.Duration) bool {
	return seconds%int64(every.Seconds()) == 0
}

func evaluate(ctx context.Context, groups []*rules.Group, seconds int64) int {
	evaluated := 0
	at := time.Unix(epochSeconds+seconds, 0).UTC()
	for _, group := range groups {
		if due(seconds, group.Interval()) {
			group.Eval(ctx, at)
			evaluated++
		}
	}
	return evaluated
}

// progress tells, on stderr, how far a long run has come and where its CPU went: a 1,200-series point
// spends about an hour on its month of history before it times anything, and without this a stalled
// run and a slow one look the same.
func progress(day int64, wall, write, compact time.Duration, sets []*ruleSet) {
	line := fmt.Sprintf("rule-engine: day %d after %.0fs wall; CPU: writing %.0fs, compacting %.0fs", day, wall.Seconds(),
		write.Seconds(), compact.Seconds())
	for _, set := range sets {
		var timed time.Duration
		for _, spent := range set.cpu {
			timed += spent
		}
		line += fmt.Sprintf(", %s preload %.0fs timed %.0fs", set.Name, set.preloadCPU.Seconds(), timed.Seconds())
	}
	fmt.Fprintln(os.Stderr, line)
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func main() {
	setsFile := flag.String("sets", "", setsFlagDescription)
	scrape := flag.Duration("scrape", time.Minute, "scrape interval of the raw counters")
	instances := flag.Int("instances", 4, "instances of the service (each has three status codes)")
	interval := flag.Duration("interval", time.Minute, "evaluation interval of groups that set none")
	preloadDays := flag.Int("preload-days", 30, preloadFlagDescription)
	timed := flag.Duration("timed", 24*time.Hour, "span evaluated and timed after the preload, per round")
	rounds := flag.Int("rounds", 1, "timed spans, one after the other")
	window := flag.Duration("budget-window", 30*24*time.Hour, "the SLO window of the hand-counted remaining budget")
	budget := flag.Float64("budget", 0.001, "the SLO's error budget (1 - objective)")
	directory := flag.String("tsdb", "", "empty folder for the TSDB")
	flag.Parse()

	raw, err := os.ReadFile(*setsFile)
	if err != nil {
		fail(err)
	}
	var sets []*ruleSet
	if err := json.Unmarshal(raw, &sets); err != nil {
		fail(err)
	}
	options := tsdb.DefaultOptions()
	options.RetentionDuration = int64(40 * 24 * time.Hour / time.Millisecond)
	options.MaxBlockDuration = int64(maxBlockDuration / time.Millisecond)
	db, err := tsdb.Open(*directory, promslog.NewNopLogger(), nil, options, nil)
	if err != nil {
		fail(err)
	}
	defer db.Close()
	db.DisableCompactions() // compaction runs between steps, outside the timed evaluations
	ctx := context.Background()
	engine := promql.NewEngine(promql.EngineOpts{
		MaxSamples: maxSamplesPerQuery, Timeout: queryTimeout, LookbackDelta: lookbackDelta,
		EnableAtModifier: true, EnableNegativeOffset: true,
	})
	step := int64(scrape.Seconds())
	for _, set := range sets {
		counted := set
		query := func(ctx context.Context, expression string, at time.Time) (promql.Vector, error) {
			q, err := engine.NewInstantQuery(ctx, db, nil, expression, at)
			if err != nil {
				return nil, err
			}
			defer q.Close()
			answer := q.Exec(ctx)
			if counted.counting && q.Stats().Samples != nil {
				counted.samples[counted.round] += q.Stats().Samples.TotalSamples
			}
			if answer.Err != nil {
				return nil, answer.Err
			}
			switch value := answer.Value.(type) {
			case promql.Vector:
				return value, nil
			case promql.Scalar:
				return promql.Vector{promql.Sample{T: value.T, F: value.V, Metric: labels.EmptyLabels()}}, nil
			default:
				return nil, fmt.Errorf("rule result is not a vector or scalar")
			}
		}
		managerOptions := &rules.ManagerOptions{
			QueryFunc: query, AppendableV2: db, Context: ctx, Logger: promslog.NewNopLogger(),
			NotifyFunc: func(context.Context, string, ...*rules.Alert) {},
		}
		manager := rules.NewManager(managerOptions)
		loaded, errs := manager.LoadGroups(*interval, labels.EmptyLabels(), "", nil, false, set.File)
		if len(errs) > 0 {
			fail(errs[0])
		}
		for _, group := range loaded {
			for _, rule := range group.Rules() {
				if alerting, ok := rule.(*rules.AlertingRule); ok {
					alerting.SetRestored(true)
				}
			}
			set.groups = append(set.groups, group)
			step = gcd(step, int64(group.Interval().Seconds()))
		}
		set.preload = preloadGroups(set.groups, managerOptions)
		set.samples, set.cpu, set.evaluations = make([]int64, *rounds), make([]time.Duration, *rounds), make([]int, *rounds)
		for _, group := range set.preload {
			set.preloadRules += len(group.Rules())
		}
	}

	load := newTraffic(*instances)
	preloadEnd := int64(*preloadDays) * 86400
	roundSeconds := int64(timed.Seconds())
	end := preloadEnd + roundSeconds*int64(*rounds)
	scrapeSeconds := int64(scrape.Seconds())
	wallBefore := time.Now()
	var preloadSeconds float64
	var writeCPU, compactCPU time.Duration
	for seconds := int64(0); seconds <= end; seconds += step {
		if seconds > 0 && seconds%86400 == 0 {
			progress(seconds/86400, time.Since(wallBefore), writeCPU, compactCPU, sets)
		}
		before := cpuTime()
		if seconds > 0 && due(seconds, *scrape) {
			app := db.Appender(ctx)
			if err := load.advance(app, float64(seconds), float64(scrapeSeconds)); err != nil {
				fail(err)
			}
			if err := app.Commit(); err != nil {
				fail(err)
			}
		}
		written := cpuTime()
		writeCPU += written - before
		if due(seconds, compactEvery) || seconds == preloadEnd {
			if err := db.Compact(ctx); err != nil {
				fail(err)
			}
		}
		compactCPU += cpuTime() - written
		if seconds < preloadEnd {
			for _, set := range sets {
				before := cpuTime()
				evaluate(ctx, set.preload, seconds)
				set.preloadCPU += cpuTime() - before
			}
			continue
		}
		if seconds == preloadEnd {
			// Every group runs once, untimed, before the first round: each round is (start, end].
			preloadSeconds = time.Since(wallBefore).Seconds()
			for _, set := range sets {
				evaluate(ctx, set.groups, seconds)
			}
			continue
		}
		round := int((seconds - preloadEnd - 1) / roundSeconds)
		// The sets take turns going first, so none always finds the caches the others warmed.
		first := int(seconds/step) % len(sets)
		for i := range sets {
			set := sets[(first+i)%len(sets)]
			set.counting, set.round = true, round
			before := cpuTime()
			set.evaluations[round] += evaluate(ctx, set.groups, seconds)
			set.cpu[round] += cpuTime() - before
			set.counting = false
		}
	}

	out := result{Series: len(load.labels), PreloadSeconds: preloadSeconds, Blocks: len(db.Blocks())}
	out.HandRemaining = load.remaining(int(int64(window.Seconds())/scrapeSeconds), *budget)
	at := time.Unix(epochSeconds+end, 0).UTC()
	for _, set := range sets {
		found := setResult{Name: set.Name, PreloadedRules: set.preloadRules, RuleErrors: []string{}}
		for round := range set.cpu {
			measured := roundResult{
				CPUSeconds: set.cpu[round].Seconds(), GroupEvaluations: set.evaluations[round], Samples: set.samples[round],
			}
			if measured.GroupEvaluations > 0 {
				measured.SamplesPerEvaluation = float64(measured.Samples) / float64(measured.GroupEvaluations)
			}
			found.Rounds = append(found.Rounds, measured)
		}
		for _, group := range set.groups {
			for _, rule := range group.Rules() {
				found.Rules++
				if ruleErr := rule.LastError(); ruleErr != nil {
					found.RuleErrors = append(found.RuleErrors, fmt.Sprintf("%s: %v", rule.Name(), ruleErr))
				}
			}
		}
		answer, err := engine.NewInstantQuery(ctx, db, nil, set.Query, at)
		if err != nil {
			fail(err)
		}
		got := answer.Exec(ctx)
		if got.Err != nil {
			fail(got.Err)
		}
		if vector, err := got.Vector(); err == nil && len(vector) > 0 {
			value := vector[0].F
			found.Value = &value
		}
		out.Sets = append(out.Sets, found)
	}
	encoded, _ := json.Marshal(out)
	fmt.Println(string(encoded))
}
