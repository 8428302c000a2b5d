package e2e

import (
	"testing"
	"time"

	"github.com/crmgen/crmgen/internal/apptest"
)

// Times in the app's zone (issue 13, defect 6): the hospital runs in Asia/Shanghai (app.timezone), its
// server in UTC, as cloud hosts do. A clinic slot booked for 08:30 shows as 08:30, not 00:30, and what a
// form says is a time of the app's zone, whatever zone the server process has.
func TestAdminTimeZone(t *testing.T) {
	a := adminApp(t, "hospital")
	t.Setenv("TZ", "UTC") // after adminApp, which sets the examples' zone
	s := a.Start(t, apptest.SQLitePath(t), noTimers)
	api := s.As(t, "admin", "admin123")
	p := openBrowser(t, s)
	p.signIn("admin", "admin123")
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("SeededSlot", func(t *testing.T) {
		p.t = t
		// Appointment a022 of the demo data: scheduledAt "2026-11-25T08:30:00+08:00".
		var out struct {
			Appointments struct {
				Edges []struct {
					Node struct {
						ID          string
						ScheduledAt time.Time
					}
				}
			}
		}
		api.GraphQL(t, `{ appointments(first: 1000) { edges { node { id scheduledAt } } } }`, nil).Decode(t, &out)
		slot := time.Date(2026, 11, 25, 8, 30, 0, 0, shanghai)
		id := ""
		for _, e := range out.Appointments.Edges {
			if e.Node.ScheduledAt.Equal(slot) {
				id = e.Node.ID
			}
		}
		if id == "" {
			t.Fatal("the demo data has no appointment at 2026-11-25 08:30 (+08:00)")
		}
		p.open("/e/Appointment/" + id)
		if got := p.fieldValue("scheduledAt"); got != "2026-11-25 08:30" {
			t.Errorf("the 08:30 slot shows as %q on a UTC server, want 2026-11-25 08:30", got)
		}
		p.open("/e/Appointment?f.scheduledAt.from=2026-11-25&f.scheduledAt.to=2026-11-25")
		if got := p.texts(`#results tbody tr[data-id="` + id + `"] td`); !containsText(got, "2026-11-25 08:30") {
			t.Errorf("the list filtered to 2026-11-25 shows the slot as %q", got)
		}
	})

	t.Run("FormRoundTrip", func(t *testing.T) {
		p.t = t
		var out struct {
			Appointments struct {
				Edges []struct {
					Node struct {
						ID          string
						ScheduledAt time.Time
					}
				}
			}
		}
		api.GraphQL(t, `{ appointments(first: 1, where: {status: booked}) { edges { node { id scheduledAt } } } }`, nil).Decode(t, &out)
		if len(out.Appointments.Edges) == 0 {
			t.Fatal("no booked appointment")
		}
		ap := out.Appointments.Edges[0].Node
		p.open("/e/Appointment/" + ap.ID + "/edit")
		if got, want := eval[string](p, `document.querySelector('[name=scheduledAt]').value`), ap.ScheduledAt.In(shanghai).Format("2006-01-02T15:04"); got != want {
			t.Errorf("the form shows %s as %q, want the app zone's %q", ap.ScheduledAt, got, want)
		}
		p.fill("[name=scheduledAt]", "2026-12-30T08:30")
		p.submit("#save")
		var back struct {
			Node struct{ ScheduledAt time.Time }
		}
		api.GraphQL(t, `query($id: ID!) { node(id: $id) { ... on Appointment { scheduledAt } } }`, map[string]any{"id": ap.ID}).Decode(t, &back)
		if want := time.Date(2026, 12, 30, 0, 30, 0, 0, time.UTC); !back.Node.ScheduledAt.Equal(want) {
			t.Errorf("08:30 entered in the form was stored as %s, want %s (08:30 in Asia/Shanghai)", back.Node.ScheduledAt.UTC(), want)
		}
		p.open("/e/Appointment/" + ap.ID)
		if got := p.fieldValue("scheduledAt"); got != "2026-12-30 08:30" {
			t.Errorf("after saving 08:30 the record shows %q", got)
		}
	})

	t.Run("Dates", func(t *testing.T) {
		p.t = t
		// Patient p001 of the demo data, born "1968-06-01": a date is its midnight in the app's zone.
		var out struct {
			Patients struct {
				Edges []struct {
					Node struct {
						ID        string
						BirthDate time.Time
					}
				}
			}
		}
		api.GraphQL(t, `{ patients(first: 1, where: {name: "贾梓涵"}) { edges { node { id birthDate } } } }`, nil).Decode(t, &out)
		if len(out.Patients.Edges) != 1 {
			t.Fatal("no patient 贾梓涵 in the demo data")
		}
		pt := out.Patients.Edges[0].Node
		if want := time.Date(1968, 6, 1, 0, 0, 0, 0, shanghai); !pt.BirthDate.Equal(want) {
			t.Errorf("the seeded birth date 1968-06-01 is stored as %s, want %s", pt.BirthDate.UTC(), want.UTC())
		}
		p.open("/e/Patient/" + pt.ID)
		if got := p.fieldValue("birthDate"); got != "1968-06-01" {
			t.Errorf("birth date shows as %q, want 1968-06-01", got)
		}
		p.open("/e/Patient/" + pt.ID + "/edit")
		if got := eval[string](p, `document.querySelector('[name=birthDate]').value`); got != "1968-06-01" {
			t.Errorf("the form shows the birth date as %q", got)
		}
		p.fill("[name=birthDate]", "1968-06-02")
		p.submit("#save")
		var back struct {
			Node struct{ BirthDate time.Time }
		}
		api.GraphQL(t, `query($id: ID!) { node(id: $id) { ... on Patient { birthDate } } }`, map[string]any{"id": pt.ID}).Decode(t, &back)
		if want := time.Date(1968, 6, 2, 0, 0, 0, 0, shanghai); !back.Node.BirthDate.Equal(want) {
			t.Errorf("1968-06-02 entered in the form was stored as %s, want %s", back.Node.BirthDate.UTC(), want.UTC())
		}
		if got := p.fieldValue("birthDate"); got != "1968-06-02" {
			t.Errorf("after saving, the birth date shows as %q", got)
		}
	})
	p.noErrors()
}

// containsText reports whether one of texts is want.
func containsText(texts []string, want string) bool {
	for _, s := range texts {
		if s == want {
			return true
		}
	}
	return false
}
