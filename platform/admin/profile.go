package admin

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/crmgen/crmgen/platform/auth"
)

// commonZones are the zones the profile page offers, west to east. Another valid IANA name posted (or
// kept from before) is accepted too.
var commonZones = []string{
	"Pacific/Honolulu", "America/Los_Angeles", "America/Denver", "America/Chicago", "America/New_York",
	"America/Sao_Paulo", "UTC", "Europe/London", "Europe/Paris", "Europe/Berlin", "Africa/Johannesburg",
	"Europe/Moscow", "Asia/Dubai", "Asia/Kolkata", "Asia/Bangkok", "Asia/Singapore", "Asia/Shanghai",
	"Asia/Hong_Kong", "Asia/Taipei", "Asia/Tokyo", "Asia/Seoul", "Australia/Sydney", "Pacific/Auckland",
}

// profileBody is the data of the profile page.
type profileBody struct {
	Username, DisplayName string
	Zone                  string   // the user's choice, "" for the app's zone
	AppZone               string   // the app's zone, named in the default choice
	Zones                 []option // the choices, each labelled with its offset now
	Now                   string   // the time now in the zone the screens use, to confirm the choice
	Error                 string
}

// profile serves the signed-in user's profile page: who they are, and their time zone.
func (s *server) profile(w http.ResponseWriter, r *http.Request) {
	s.renderProfile(w, r, "", "")
}

// saveProfile keeps the user's time zone: "" for the app's, else an IANA zone name; an unknown name is
// refused with the page and a message, nothing saved.
func (s *server) saveProfile(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	if s.cfg.Preferences == nil {
		s.fail(w, r, http.StatusNotFound, nil)
		return
	}
	p := auth.FromContext(r.Context())
	name := r.PostForm.Get("timezone")
	if name != "" && loadZone(name) == nil {
		lang := language(s.cfg.Model, r)
		s.renderProfile(w, r, name, fmt.Sprintf(translate(lang, "unknown zone"), name))
		return
	}
	if err := s.cfg.Preferences.setZone(r.Context(), p.ID, name); err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	s.setFlash(w, r, "saved")
	redirect(w, r, "/profile")
}

// renderProfile renders the profile page; posted and msg are a refused choice and why.
func (s *server) renderProfile(w http.ResponseWriter, r *http.Request, posted, msg string) {
	if s.cfg.Preferences == nil {
		s.fail(w, r, http.StatusNotFound, nil)
		return
	}
	f := s.newFrame(r, "")
	f.Title = f.T("profile")
	p := f.User
	b := profileBody{Username: p.Username, DisplayName: p.DisplayName, AppZone: s.zone.String(), Error: msg}
	name, err := s.cfg.Preferences.zone(r.Context(), p.ID)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	b.Zone = name
	if posted != "" {
		b.Zone = posted
	}
	now := time.Now()
	names := commonZones
	if b.Zone != "" && !slices.Contains(names, b.Zone) && loadZone(b.Zone) != nil {
		names = append([]string{b.Zone}, names...)
	}
	for _, n := range names {
		_, off := now.In(loadZone(n)).Zone()
		b.Zones = append(b.Zones, option{Value: n, Label: fmt.Sprintf("%s (UTC%s)", n, offset(off))})
	}
	b.Now = now.In(s.zones(r.Context()).user).Format("2006-01-02 15:04")
	f.Body = b
	s.render(w, r, http.StatusOK, "profile", f)
}

// offset renders a zone's offset from UTC in seconds as "+08:00".
func offset(sec int) string {
	sign := "+"
	if sec < 0 {
		sign, sec = "-", -sec
	}
	return fmt.Sprintf("%s%02d:%02d", sign, sec/3600, sec/60%60)
}
