package e2e

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/crmgen/crmgen/internal/apptest"
	"github.com/crmgen/crmgen/metamodel"
)

// Work queues on the home page (issue 13): for each workflow, the records on which the user may run a
// transition now (by transition), the overdue ones and the ones assigned to them, each a count that opens
// the list of exactly those records. The counts are checked against what the API says as the same user:
// a physician who sees only their own patients' follow-ups, and the service centre, which sees all.
func TestAdminWorkQueues(t *testing.T) {
	a := adminApp(t, "hospital")
	s := a.Start(t, apptest.SQLitePath(t), noTimers)
	for _, u := range []struct{ name, password string }{{"liuyang", "doctor123"}, {"heping", "service123"}} {
		t.Run(u.name, func(t *testing.T) {
			api := s.As(t, u.name, u.password)
			want := expectedQueues(t, a.Model, api)
			p := openBrowser(t, s)
			p.signIn(u.name, u.password)
			p.open("/")
			p.screenshots("queues-home-" + u.name)
			type shown struct{ Key, Label, Count, URL string }
			got := map[string]shown{}
			for _, q := range eval[[]shown](p, `[...document.querySelectorAll('#work a[data-queue]')].map(a => ({Key: a.dataset.queue,
				Label: a.querySelector('.label').innerText.trim(), Count: a.querySelector('.count').innerText.trim(), URL: a.getAttribute('href')}))`) {
				got[q.Key] = q
			}
			if len(want) == 0 {
				t.Fatalf("the API has no work for %s: the test needs some", u.name)
			}
			for key, n := range want {
				q, ok := got[key]
				switch {
				case n == 0 && ok:
					t.Errorf("%s: queue %s shows %s records, the API has none", u.name, key, q.Count)
				case n > 0 && !ok:
					t.Errorf("%s: queue %s is missing; the API has %d records", u.name, key, n)
				case n > 0 && q.Count != strconv.Itoa(n):
					t.Errorf("%s: queue %s (%s) shows %s, the API has %d", u.name, key, q.Label, q.Count, n)
				}
			}
			for key, q := range got {
				if _, ok := want[key]; !ok && !strings.HasPrefix(key, "overdue.") {
					t.Errorf("%s: queue %s (%s) is not one the test expects", u.name, key, q.Label)
				}
				if strings.ContainsAny(q.Label, "{}.") || q.Label == "" {
					t.Errorf("%s: queue %s has the label %q", u.name, key, q.Label)
				}
			}
			// One click from the home page opens the list of exactly the queue's records.
			first := true
			for key, q := range got {
				if first {
					p.open("/")
					eval[bool](p, `(window.__stale = true)`)
					p.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`#work a[data-queue=%q]`, key))))
					p.waitFor(`window.__stale === undefined && document.querySelector('#total')`)
					first = false
				} else {
					p.open(q.URL)
				}
				if total := p.text("#total"); total != q.Count {
					t.Errorf("%s: queue %s counts %s, its list shows %s (%s)", u.name, key, q.Count, total, q.URL)
				}
				if p.count("#queue-chip") != 1 {
					t.Errorf("%s: the list of queue %s does not say it shows a queue", u.name, key)
				}
			}
			p.noErrors()
		})
	}
}

// expectedQueues asks the API, as the user of api, what each work queue should count: per transition, the
// records whose availableTransitions offer it; the follow-ups whose reminder timer (due time − 24 h) has
// passed; and per User relation of a workflow entity, the user's records in a state that is not final.
func expectedQueues(t *testing.T, m *metamodel.Model, api *apptest.Server) map[string]int {
	t.Helper()
	var me struct{ Me struct{ ID string } }
	api.GraphQL(t, `{ me { id } }`, nil).Decode(t, &me)
	want := map[string]int{}
	for _, w := range m.Workflows {
		e := m.Entity(w.Entity)
		var out struct {
			L struct {
				TotalCount int
				Edges      []struct {
					Node struct {
						AvailableTransitions []struct{ Name string }
					}
				}
			}
		}
		api.GraphQL(t, `{ l: `+e.QueryField()+`(first: 1000) { totalCount edges { node { availableTransitions { name } } } } }`, nil).Decode(t, &out)
		if out.L.TotalCount > 1000 {
			t.Fatalf("%s: more records than the test reads", e.Name)
		}
		for _, ed := range out.L.Edges {
			for _, tr := range ed.Node.AvailableTransitions {
				want["t."+w.Name+"."+tr.Name]++
			}
		}
		var open []string
		for _, st := range w.States {
			if !st.Final {
				open = append(open, st.Name)
			}
		}
		for _, r := range e.Relations {
			if r.Kind != metamodel.BelongsTo || r.To != "User" || r.System {
				continue
			}
			var c struct{ L struct{ TotalCount int } }
			api.GraphQL(t, `query($w: `+e.Name+`WhereInput) { l: `+e.QueryField()+`(where: $w) { totalCount } }`,
				map[string]any{"w": map[string]any{r.GraphQLFKName(): me.Me.ID, "statusIn": open}}).Decode(t, &c)
			want["mine."+w.Name+"."+r.Name] = c.L.TotalCount
		}
	}
	// FollowUpProcess's timers of "assigned": a reminder at dueAt − 24h (and an escalation later).
	var c struct{ L struct{ TotalCount int } }
	api.GraphQL(t, `query($t: Time!) { l: followUps(where: {status: assigned, dueAtLTE: $t}) { totalCount } }`,
		map[string]any{"t": time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)}).Decode(t, &c)
	want["overdue.FollowUpProcess"] = c.L.TotalCount
	return want
}
