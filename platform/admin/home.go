package admin

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// homeBody is the home screen: the entities the user may read with their counts, and the inbox.
type homeBody struct {
	Entities   []navItem
	Inbox      []inboxItem
	Dashboards []*dashboardView
	Work       []*queueGroup // the user's work queues with records in them
}

// HasCharts reports whether a dashboard has a chart that ECharts redraws, so the page loads it.
func (b homeBody) HasCharts() bool {
	for _, d := range b.Dashboards {
		for _, r := range d.Reports {
			if r.Island != nil {
				return true
			}
		}
	}
	return false
}

// inboxItem is one message of the user's inbox.
type inboxItem struct {
	ID, Title, Body, Link, At string
	Unread                    bool
}

// home shows one card per readable entity with the number of rows this user sees (one GraphQL
// operation: a count per entity, aliased, exact up to Config.CountLimit) and the unread part of the
// inbox. An entity whose count the API refuses is left out, whatever the role tables say.
func (s *server) home(w http.ResponseWriter, r *http.Request) {
	f := s.newFrame(r, "")
	f.Title = f.T("home")
	var q strings.Builder
	q.WriteString("query($upTo: Int) {")
	for _, n := range f.Nav {
		e := s.cfg.Model.Entity(n.Name)
		q.WriteString(" " + n.Name + ": " + e.CountField() + "(upTo: $upTo)")
	}
	q.WriteString(" }")
	body := homeBody{}
	if len(f.Nav) > 0 {
		resp, err := s.gql(r.Context(), q.String(), map[string]any{"upTo": s.countLimit()})
		if resp == nil {
			s.fail(w, r, http.StatusInternalServerError, err)
			return
		}
		var nav []navItem
		for _, n := range f.Nav {
			c, ok := resp.Data[n.Name]
			if !ok || c == nil {
				continue
			}
			n.Count, n.CountCapped = s.counted(c)
			nav = append(nav, n)
		}
		f.Nav = nav
		body.Entities = nav
	}
	if f.HasInbox {
		body.Inbox = s.inboxItems(r, true, 10)
	}
	body.Dashboards = s.dashboards(r, f.Lang)
	body.Work = s.workQueues(r.Context(), f.Lang, "")
	s.countQueues(r.Context(), body.Work)
	body.Work = slices.DeleteFunc(body.Work, func(g *queueGroup) bool {
		g.Queues = slices.DeleteFunc(g.Queues, func(q *workQueue) bool { return q.Count == 0 })
		return len(g.Queues) == 0
	})
	f.Body = body
	s.render(w, r, http.StatusOK, "home", f)
}

// inboxItems reads the user's inbox (only unread messages if unreadOnly).
func (s *server) inboxItems(r *http.Request, unreadOnly bool, first int) []inboxItem {
	resp, err := s.gql(r.Context(), `query($u: Boolean, $n: Int) { inbox(unreadOnly: $u, first: $n) { id title body link createdAt readAt } }`,
		map[string]any{"u": unreadOnly, "n": first})
	if err != nil {
		s.cfg.Log.ErrorContext(r.Context(), "read inbox", "err", err)
		return nil
	}
	list, _ := resp.Data["inbox"].([]any)
	var out []inboxItem
	for _, v := range list {
		m, _ := v.(map[string]any)
		at := str(m["createdAt"])
		if t, err := time.Parse(time.RFC3339Nano, at); err == nil {
			at = t.In(s.zones(r.Context()).user).Format("2006-01-02 15:04")
		}
		out = append(out, inboxItem{ID: str(m["id"]), Title: str(m["title"]), Body: str(m["body"]), Link: s.screenLink(str(m["link"])),
			At: at, Unread: m["readAt"] == nil})
	}
	return out
}

// screenLink turns an inbox link ("/FollowUp/12", the record's path) into its screen ("/e/FollowUp/12");
// links that are not paths within the app are dropped.
func (s *server) screenLink(link string) string {
	if link == "" || localPath(link) != link {
		return ""
	}
	if parts := strings.Split(strings.TrimPrefix(link, "/"), "/"); len(parts) == 2 && s.cfg.Model.Entity(parts[0]) != nil {
		return "/e/" + link[1:]
	}
	return link
}

// inbox shows every message of the user, newest first.
func (s *server) inbox(w http.ResponseWriter, r *http.Request) {
	f := s.newFrame(r, "")
	f.Title = f.T("inbox")
	if !f.HasInbox {
		s.fail(w, r, http.StatusNotFound, nil)
		return
	}
	f.Body = homeBody{Inbox: s.inboxItems(r, false, 200)}
	s.render(w, r, http.StatusOK, "inbox", f)
}

// markRead marks one message (id) or all of them (all=1) read, then returns to the inbox or follows the
// message's link (open=1).
func (s *server) markRead(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	var err error
	if r.PostForm.Get("all") != "" {
		_, err = s.gql(r.Context(), `mutation { markAllRead }`, nil)
	} else {
		_, err = s.gql(r.Context(), `mutation($id: ID!) { markRead(id: $id) }`, map[string]any{"id": r.PostForm.Get("id")})
	}
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	redirect(w, r, r.PostForm.Get("next"))
}
