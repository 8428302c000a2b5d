package admin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crmgen/crmgen/metamodel"
	"github.com/crmgen/crmgen/platform/auth"
)

// A large import runs as a background job: the upload is read and its header checked at once, then the
// answer is a job page that shows a progress bar (rows done of the file's, refused so far), polled by
// htmx, and becomes the result page (written, refused, the error report) when the job ends.
//
// The job runs as the user who uploaded the file: its context is the upload's, detached from the
// request's end, so every row goes through the same GraphQL create, with the same principal and the
// same enforcement, as a small import's. The principal is the one of the upload: signing out does not
// stop the job (its stop button does), and a change of the user's roles applies to the next import.
// Its rows are written in batches of importBatch, each one operation and one transaction of the API
// (createValid), so the progress is real and a crash or a restart loses at most the batch being
// written: the batches before it are committed. Only the valid-rows mode runs as a job; all or nothing
// is one transaction, so it is bounded by one operation (opRows), as before.
//
// Jobs live in this process's memory only: a restart forgets them (the rows already written stay), and
// with several instances behind a load balancer the job page is found only on the instance that runs
// the job. A job is its user's alone: another user, whatever their role, gets 404 for its page and its
// report. A finished job is kept for jobKeep, then forgotten.

// jobKeep is how long a finished job's result page and report stay available.
const jobKeep = time.Hour

// maxShownProblems bounds the problems a job's result page lists; the report holds them all.
const maxShownProblems = 200

// importJob is one background import.
type importJob struct {
	id     string
	user   int
	entity string
	total  int         // data rows in the file
	stop   atomic.Bool // asked to stop: it does after the batch it is writing

	mu                     sync.Mutex
	done, written, refused int // rows processed, of which written and refused
	finished               bool
	ended                  time.Time
	result                 *importBody // the result page's body, once finished
	report                 string      // the refused rows as a CSV, once finished ("" when none)
}

// importJobs is the server's table of jobs.
type importJobs struct {
	mu   sync.Mutex
	byID map[string]*importJob
}

// jobProgress is what the progress bar shows.
type jobProgress struct {
	URL                  string
	Done, Total, Refused int
	Percent              int
	Cancelled            bool
}

// add registers j, forgetting finished jobs older than jobKeep. It refuses (returns the running job)
// when the user already has an import running: one at a time per user.
func (js *importJobs) add(j *importJob) *importJob {
	js.mu.Lock()
	defer js.mu.Unlock()
	if js.byID == nil {
		js.byID = map[string]*importJob{}
	}
	for id, o := range js.byID {
		o.mu.Lock()
		old, running := o.finished && time.Since(o.ended) > jobKeep, !o.finished
		o.mu.Unlock()
		switch {
		case old:
			delete(js.byID, id)
		case running && o.user == j.user:
			return o
		}
	}
	js.byID[j.id] = j
	return nil
}

// get returns the job id of user on entity, or nil: a job of another user does not exist for this one.
func (js *importJobs) get(id string, user int, entity string) *importJob {
	js.mu.Lock()
	defer js.mu.Unlock()
	j := js.byID[id]
	if j == nil || j.user != user || j.entity != entity {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.finished && time.Since(j.ended) > jobKeep {
		return nil
	}
	return j
}

// jobURL is the page of job j of entity e.
func jobURL(e *metamodel.Entity, id string) string { return entityURL(e) + "/import/jobs/" + id }

// newJobID is a random job id: not guessable, so a job's address tells nothing about others'.
func newJobID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// startImportJob runs the import of rows in the background as the user of r, and answers with a
// redirect to the job's page.
func (s *server) startImportJob(w http.ResponseWriter, r *http.Request, e *metamodel.Entity, si *schemaInfo,
	plan *importPlan, header []string, rows [][]string, unknown []string, key, lang string) {
	p := auth.FromContext(r.Context())
	j := &importJob{id: newJobID(), user: p.ID, entity: e.Name, total: len(rows)}
	if running := s.jobs.add(j); running != nil {
		s.renderImport(w, r, http.StatusConflict, e, &importBody{Error: translate(lang, "import.busy"), JobURL: jobURL(e, running.id)})
		return
	}
	// The job's own request: the upload's headers (its language) and principal, without its body, and
	// not cancelled when the upload's request ends. A stop is asked for with j.stop, so that it falls
	// between batches, never inside one.
	jr := r.Clone(context.WithoutCancel(r.Context()))
	jr.Body, jr.MultipartForm, jr.Form, jr.PostForm = http.NoBody, nil, nil, nil
	go s.runImportJob(jr, j, e, si, plan, header, rows, unknown, key, lang)
	http.Redirect(w, r, jobURL(e, j.id), http.StatusSeeOther)
}

// runImportJob writes the rows in batches, counting progress as it goes, and keeps the result.
func (s *server) runImportJob(r *http.Request, j *importJob, e *metamodel.Entity, si *schemaInfo,
	plan *importPlan, header []string, rows [][]string, unknown []string, key, lang string) {
	ctx := r.Context()
	b := &importBody{Unknown: unknown, ValidOnly: true, Key: key}
	var problems []importProblem
	var wrote tally
	defer func() {
		if v := recover(); v != nil {
			s.cfg.Log.ErrorContext(ctx, "import job", "entity", e.Name, "panic", v)
			b.Error = errorText(lang, "")
		}
		j.finish(b, problems, header, rows, lang, s)
	}()
	inputs, problems, err := s.rowInputs(ctx, e, si, plan, rows, header, lang)
	if err != nil {
		s.cfg.Log.ErrorContext(ctx, "import job", "entity", e.Name, "err", err)
		b.Error = errorText(lang, "")
		return
	}
	j.progress(problemRows(problems), 0, problemRows(problems))
	batch := min(importBatch, s.opRows())
	for start := 0; start < len(inputs); start += batch {
		if j.stop.Load() {
			b.Error = fmt.Sprintf(translate(lang, "import.cancelled"), wrote.written())
			return
		}
		chunk := inputs[start:min(start+batch, len(inputs))]
		t, refused := s.createValid(r, e, chunk, lang)
		wrote.created += t.created
		wrote.updated += t.updated
		problems = append(problems, refused...)
		j.progress(len(chunk), t.written(), len(chunk)-t.written())
	}
	if b.Done = importOutcome(lang, key != "", wrote, problemRows(problems)); b.Done == "" {
		b.Error = translate(lang, "import.refused")
	}
}

// progress counts rows processed, of which written and refused.
func (j *importJob) progress(done, written, refused int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.done += done
	j.written += written
	j.refused += refused
}

// finish keeps the job's result: the page's body, with at most maxShownProblems problems listed, and the
// report of every refused row.
func (j *importJob) finish(b *importBody, problems []importProblem, header []string, rows [][]string, lang string, s *server) {
	problems = sortProblems(problems)
	report := s.problemReport(header, rows, problems, lang)
	if len(problems) > maxShownProblems {
		b.More = len(problems) - maxShownProblems
		problems = problems[:maxShownProblems]
	}
	b.Problems = problems
	j.mu.Lock()
	defer j.mu.Unlock()
	j.result, j.report, j.finished, j.ended = b, report, true, time.Now()
}

// importJob finds the job of the path for the signed-in user, or answers 404.
func (s *server) importJobOf(w http.ResponseWriter, r *http.Request) (*metamodel.Entity, *importJob) {
	e := s.importEntity(w, r)
	if e == nil {
		return nil, nil
	}
	p := auth.FromContext(r.Context())
	j := s.jobs.get(r.PathValue("job"), p.ID, e.Name)
	if j == nil {
		s.fail(w, r, http.StatusNotFound, nil)
		return nil, nil
	}
	return e, j
}

// importJobPage shows a job: its progress while it runs (for htmx's poll, the progress bar alone), its
// result once it has ended. A poll that finds the job ended asks htmx to load the page again whole.
func (s *server) importJobPage(w http.ResponseWriter, r *http.Request) {
	e, j := s.importJobOf(w, r)
	if e == nil {
		return
	}
	j.mu.Lock()
	pg := jobProgress{URL: jobURL(e, j.id), Done: j.done, Total: j.total, Refused: j.refused, Cancelled: j.stop.Load()}
	finished, result, report := j.finished, j.result, j.report
	j.mu.Unlock()
	if pg.Total > 0 {
		pg.Percent = pg.Done * 100 / pg.Total
	}
	if r.Header.Get("HX-Request") == "true" {
		if finished {
			w.Header().Set("HX-Refresh", "true")
			w.WriteHeader(http.StatusOK)
			return
		}
		f := s.newFrame(r, "")
		f.Body = &importBody{Job: &pg}
		s.renderPart(w, r, "import", "importprogress", f)
		return
	}
	if !finished {
		s.renderImport(w, r, http.StatusOK, e, &importBody{Job: &pg, ValidOnly: true})
		return
	}
	b := *result
	if report != "" {
		b.ReportURL = pg.URL + "/report.csv"
	}
	s.renderImport(w, r, http.StatusOK, e, &b)
}

// cancelImportJob stops a running job after the batch it is writing: the rows written so far stay.
func (s *server) cancelImportJob(w http.ResponseWriter, r *http.Request) {
	e, j := s.importJobOf(w, r)
	if e == nil {
		return
	}
	j.stop.Store(true)
	http.Redirect(w, r, jobURL(e, j.id), http.StatusSeeOther)
}

// importJobReport answers a finished job's refused rows as a CSV download.
func (s *server) importJobReport(w http.ResponseWriter, r *http.Request) {
	e, j := s.importJobOf(w, r)
	if e == nil {
		return
	}
	j.mu.Lock()
	report, finished := j.report, j.finished
	j.mu.Unlock()
	if !finished || report == "" {
		s.fail(w, r, http.StatusNotFound, nil)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-import-problems.csv"`, e.QueryField()))
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte("\uFEFF" + report))
}
