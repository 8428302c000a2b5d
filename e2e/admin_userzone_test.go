package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/crmgen/crmgen/internal/apptest"
)

// A user's own time zone (issue 13): the hospital runs in Asia/Shanghai (app.timezone) on a UTC server.
// The administrator, travelling, chooses Europe/London on their profile page; from then on every time
// the screens show them or read from them is London's, while dates stay the hospital's days and another
// user still sees the hospital's times. A zone that does not exist is refused, in Chinese and English.
func TestAdminUserZone(t *testing.T) {
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
	// Appointment a022 of the demo data: scheduledAt "2026-11-25T08:30:00+08:00", 00:30 in London.
	slot := appointmentAt(t, api, time.Date(2026, 11, 25, 8, 30, 0, 0, shanghai))

	t.Run("ChooseZone", func(t *testing.T) {
		p.t = t
		p.language("en")
		p.open("/")
		if p.count("#profile-link") != 1 {
			t.Fatal("the header has no link to the profile page")
		}
		p.submit("#profile-link") // a link: clicking it loads the profile page
		if !strings.HasSuffix(p.location(), "/profile") {
			t.Fatalf("the profile link opened %s", p.location())
		}
		if got := eval[string](p, `document.querySelector('#timezone').value`); got != "" {
			t.Errorf("before choosing, the zone is %q, want the app default", got)
		}
		if got := p.text(`#timezone option[value=""]`); !strings.Contains(got, "Asia/Shanghai") {
			t.Errorf("the default choice reads %q, want it to name the app's zone Asia/Shanghai", got)
		}
		p.fill("#timezone", "Europe/London")
		p.submit("#save-profile")
		if got := p.text(".flash"); got != "Saved" {
			t.Errorf("saving the profile said %q", got)
		}
		if got := eval[string](p, `document.querySelector('#timezone').value`); got != "Europe/London" {
			t.Errorf("after saving, the zone is %q", got)
		}
		p.language("zh")
		p.open("/profile")
		if got := p.text("#profile-link"); got != "个人设置" {
			t.Errorf("the profile link reads %q in Chinese", got)
		}
		p.screenshots("profile-zone")
	})

	t.Run("SeededSlot", func(t *testing.T) {
		p.t = t
		p.open("/e/Appointment/" + slot)
		if got := p.fieldValue("scheduledAt"); got != "2026-11-25 00:30" {
			t.Errorf("the 08:30 Shanghai slot shows as %q in London, want 2026-11-25 00:30", got)
		}
		p.open("/e/Appointment?f.scheduledAt.from=2026-11-25&f.scheduledAt.to=2026-11-25")
		if got := p.texts(`#results tbody tr[data-id="` + slot + `"] td`); !containsText(got, "2026-11-25 00:30") {
			t.Errorf("the list filtered to London's 2026-11-25 shows the slot as %q", got)
		}
		p.open("/e/Appointment/" + slot + "/edit")
		if got := eval[string](p, `document.querySelector('[name=scheduledAt]').value`); got != "2026-11-25T00:30" {
			t.Errorf("the form shows the slot as %q, want London's 2026-11-25T00:30", got)
		}
		p.open("/e/Appointment/calendar?view=week&d=2026-11-25")
		if got := p.text(`td[data-date="2026-11-25"] a[href="/e/Appointment/` + slot + `"] time`); got != "00:30" {
			t.Errorf("the week calendar shows the slot at %q on London's 2026-11-25, want 00:30", got)
		}
	})

	t.Run("FormRoundTrip", func(t *testing.T) {
		p.t = t
		var out struct {
			Appointments struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
		api.GraphQL(t, `{ appointments(first: 1, where: {status: booked}) { edges { node { id } } } }`, nil).Decode(t, &out)
		if len(out.Appointments.Edges) == 0 {
			t.Fatal("no booked appointment")
		}
		id := out.Appointments.Edges[0].Node.ID
		p.open("/e/Appointment/" + id + "/edit")
		p.fill("[name=scheduledAt]", "2026-12-30T08:30")
		p.submit("#save")
		var back struct {
			Node struct{ ScheduledAt string }
		}
		api.GraphQL(t, `query($id: ID!) { node(id: $id) { ... on Appointment { scheduledAt } } }`, map[string]any{"id": id}).Decode(t, &back)
		at, err := time.Parse(time.RFC3339, back.Node.ScheduledAt)
		if err != nil {
			t.Fatalf("the API answers scheduledAt %q, not RFC 3339 with an offset: %v", back.Node.ScheduledAt, err)
		}
		if want := time.Date(2026, 12, 30, 8, 30, 0, 0, time.UTC); !at.Equal(want) {
			t.Errorf("08:30 entered in London was stored as %s, want %s", at.UTC(), want)
		}
		if got := p.fieldValue("scheduledAt"); got != "2026-12-30 08:30" {
			t.Errorf("after saving 08:30 the record shows %q", got)
		}
	})

	t.Run("DatesStayDays", func(t *testing.T) {
		p.t = t
		// Patient 贾梓涵 of the demo data, born "1968-06-01": the same day in London.
		var out struct {
			Patients struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
		api.GraphQL(t, `{ patients(first: 1, where: {name: "贾梓涵"}) { edges { node { id } } } }`, nil).Decode(t, &out)
		if len(out.Patients.Edges) != 1 {
			t.Fatal("no patient 贾梓涵 in the demo data")
		}
		id := out.Patients.Edges[0].Node.ID
		p.open("/e/Patient/" + id)
		if got := p.fieldValue("birthDate"); got != "1968-06-01" {
			t.Errorf("the birth date shows as %q in London, want the day 1968-06-01", got)
		}
		p.open("/e/Patient/" + id + "/edit")
		if got := eval[string](p, `document.querySelector('[name=birthDate]').value`); got != "1968-06-01" {
			t.Errorf("the form shows the birth date as %q in London", got)
		}
	})

	t.Run("OtherUserKeepsAppZone", func(t *testing.T) {
		p.t = t
		// Another administrator (a second session of a user who chose nothing) would do; the slot's
		// physician wangqiang sees his own appointment.
		q := openBrowser(t, s)
		q.signIn("wangqiang", "doctor123")
		q.open("/e/Appointment/" + slot)
		if got := q.fieldValue("scheduledAt"); got != "2026-11-25 08:30" {
			t.Errorf("wangqiang, who chose no zone, sees the slot as %q, want the hospital's 2026-11-25 08:30", got)
		}
		q.open("/profile")
		if got := eval[string](q, `document.querySelector('#timezone').value`); got != "" {
			t.Errorf("wangqiang's profile shows zone %q, want the app default", got)
		}
		q.noErrors()
	})

	t.Run("UnknownZoneRefused", func(t *testing.T) {
		p.t = t
		for _, c := range []struct{ lang, want string }{
			{"zh", "未知的时区「Mars/Olympus_Mons」，请从列表中选择"},
			{"en", "Unknown time zone “Mars/Olympus_Mons”: choose one from the list"},
		} {
			p.language(c.lang)
			p.open("/profile")
			status, body := p.fetchPost("/profile", "timezone=Mars%2FOlympus_Mons")
			if status != 200 || !strings.Contains(body, c.want) {
				t.Errorf("%s: an unknown zone answered %d without the message %q", c.lang, status, c.want)
			}
			// The same through the page: the select offers no such zone, so add it as a forged form would.
			eval[bool](p, `(() => { const o = document.createElement('option'); o.value = 'Local'; o.text = 'Local';
				document.querySelector('#timezone').append(o); return true; })()`)
			p.fill("#timezone", "Local")
			p.submit("#save-profile")
			if got := p.text("#profile-error"); !strings.Contains(got, "Local") {
				t.Errorf("%s: the server's own zone \"Local\" was not refused (%q)", c.lang, got)
			}
		}
		p.open("/e/Appointment/" + slot)
		if got := p.fieldValue("scheduledAt"); got != "2026-11-25 00:30" {
			t.Errorf("after the refusals the slot shows as %q, want London's 00:30 still", got)
		}
	})

	t.Run("BackToAppZone", func(t *testing.T) {
		p.t = t
		p.open("/profile")
		p.fill("#timezone", "")
		p.submit("#save-profile")
		p.open("/e/Appointment/" + slot)
		if got := p.fieldValue("scheduledAt"); got != "2026-11-25 08:30" {
			t.Errorf("back on the app's zone the slot shows as %q, want 08:30", got)
		}
	})
	p.noErrors()
}

// appointmentAt returns the id of the demo data's appointment scheduled at the instant at.
func appointmentAt(t *testing.T, api *apptest.Server, at time.Time) string {
	t.Helper()
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
	for _, e := range out.Appointments.Edges {
		if e.Node.ScheduledAt.Equal(at) {
			return e.Node.ID
		}
	}
	t.Fatalf("the demo data has no appointment at %s", at)
	return ""
}
