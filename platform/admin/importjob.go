package admin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
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
// is one transaction: bounded by one operation (opRows), or, where the app can hold a transaction across
// operations (Config.HoldTx), a job whose batches run as savepoints of one transaction that commits only
// if no row was refused (a stop, a refusal or a crash writes nothing).
//
// A job's state is kept in the database (JobStore), not in the process: its page, its stop button and
// its result work on whichever instance answers, and after a restart the page of a job that was running
// says it was interrupted and how many rows it had written. The file itself is not kept: the rows not
// yet written are imported again by the user (matching by a natural key, importkey.go, makes that safe
// for the rows written twice). A job is its user's alone: another user, whatever their role, gets 404
// for its page and its report. A finished job is kept for jobKeep, then forgotten.

// jobKeep is how long a finished job's result page and report stay available.
const jobKeep = time.Hour

// maxShownProblems bounds the problems a job's result page lists; the report holds them all.
const maxShownProblems = 200

// jobProgress is what the progress bar shows.
type jobProgress struct {
	URL                  string
	Done, Total, Refused int
	Percent              int
	Cancelled            bool
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
	plan *importPlan, header []string, rows [][]string, unknown []string, key string, validOnly bool, lang string) {
	p := auth.FromContext(r.Context())
	id := newJobID()
	running, err := s.cfg.Jobs.add(r.Context(), id, p.ID, e.Name, len(rows))
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	if running != nil {
		url := ""
		if ent := s.cfg.Model.Entity(running.entity); ent != nil {
			url = jobURL(ent, running.id)
		}
		s.renderImport(w, r, http.StatusConflict, e, &importBody{Error: translate(lang, "import.busy"), JobURL: url})
		return
	}
	// The job's own request: the upload's headers (its language) and principal, without its body, and
	// not cancelled when the upload's request ends. A stop is asked for in the job's row, and read after
	// each batch, so that it falls between batches, never inside one.
	jr := r.Clone(context.WithoutCancel(r.Context()))
	jr.Body, jr.MultipartForm, jr.Form, jr.PostForm = http.NoBody, nil, nil, nil
	go s.runImportJob(jr, id, e, si, plan, header, rows, unknown, key, validOnly, lang)
	http.Redirect(w, r, jobURL(e, id), http.StatusSeeOther)
}

// runImportJob writes the rows in batches, counting progress as it goes, and keeps the result.
func (s *server) runImportJob(r *http.Request, id string, e *metamodel.Entity, si *schemaInfo,
	plan *importPlan, header []string, rows [][]string, unknown []string, key string, validOnly bool, lang string) {
	ctx := r.Context()
	b := &importBody{Unknown: unknown, ValidOnly: validOnly, Key: key}
	var problems []importProblem
	var wrote tally
	logged := func(what string, err error) {
		if err != nil {
			s.cfg.Log.ErrorContext(ctx, "import job: "+what, "entity", e.Name, "job", id, "err", err)
		}
	}
	beating := make(chan struct{})
	go func() {
		t := time.NewTicker(jobBeat)
		defer t.Stop()
		for {
			select {
			case <-beating:
				return
			case <-t.C:
				logged("heartbeat", s.cfg.Jobs.beat(ctx, id))
			}
		}
	}()
	defer func() {
		close(beating)
		if v := recover(); v != nil {
			s.cfg.Log.ErrorContext(ctx, "import job", "entity", e.Name, "panic", v)
			b.Error = errorText(lang, "")
		}
		problems = sortProblems(problems)
		report := s.problemReport(header, rows, problems, lang)
		if len(problems) > maxShownProblems {
			b.More = len(problems) - maxShownProblems
			problems = problems[:maxShownProblems]
		}
		b.Problems = problems
		logged("finish", s.cfg.Jobs.finish(ctx, id, b, report))
	}()
	inputs, problems, err := s.rowInputs(ctx, e, si, plan, rows, header, lang)
	if err != nil {
		logged("read rows", err)
		b.Error = errorText(lang, "")
		return
	}
	if !validOnly {
		if len(problems) > 0 {
			b.Error = translate(lang, "import.refused")
			return
		}
		var refused []importProblem
		wrote, refused, b.Error = s.createHeld(r, e, inputs, lang, func(done, refused int) bool {
			stop, err := s.cfg.Jobs.progress(ctx, id, done, 0, refused)
			logged("progress", err)
			return stop
		})
		problems = append(problems, refused...)
		if b.Error == "" {
			_, err := s.cfg.Jobs.progress(ctx, id, 0, wrote.written(), 0) // committed: now they count as written
			logged("progress", err)
			b.Done = importOutcome(lang, key != "", wrote, 0)
		}
		return
	}
	stop, err := s.cfg.Jobs.progress(ctx, id, problemRows(problems), 0, problemRows(problems))
	logged("progress", err)
	batch := min(importBatch, s.opRows())
	for start := 0; start < len(inputs); start += batch {
		if stop {
			b.Error = fmt.Sprintf(translate(lang, "import.cancelled"), wrote.written())
			return
		}
		chunk := inputs[start:min(start+batch, len(inputs))]
		t, refused := s.createValid(r, e, chunk, lang)
		wrote.created += t.created
		wrote.updated += t.updated
		problems = append(problems, refused...)
		stop, err = s.cfg.Jobs.progress(ctx, id, len(chunk), t.written(), len(chunk)-t.written())
		logged("progress", err)
	}
	if b.Done = importOutcome(lang, key != "", wrote, problemRows(problems)); b.Done == "" {
		b.Error = translate(lang, "import.refused")
	}
}

// importJobOf finds the job of the path for the signed-in user, or answers 404.
func (s *server) importJobOf(w http.ResponseWriter, r *http.Request) (*metamodel.Entity, *jobRow) {
	e := s.importEntity(w, r)
	if e == nil {
		return nil, nil
	}
	var j *jobRow
	if s.cfg.Jobs != nil {
		var err error
		if j, err = s.cfg.Jobs.get(r.Context(), r.PathValue("job"), auth.FromContext(r.Context()).ID, e.Name); err != nil {
			s.fail(w, r, http.StatusInternalServerError, err)
			return nil, nil
		}
	}
	if j == nil {
		s.fail(w, r, http.StatusNotFound, nil)
		return nil, nil
	}
	return e, j
}

// importJobPage shows a job: its progress while it runs (for htmx's poll, the progress bar alone), its
// result once it has ended, or, when its process is gone, that it was interrupted and what it had
// written. A poll that finds the job ended asks htmx to load the page again whole.
func (s *server) importJobPage(w http.ResponseWriter, r *http.Request) {
	e, j := s.importJobOf(w, r)
	if e == nil {
		return
	}
	lang := language(s.cfg.Model, r)
	pg := jobProgress{URL: jobURL(e, j.id), Done: j.done, Total: j.total, Refused: j.refused, Cancelled: j.state == jobStopping}
	if pg.Total > 0 {
		pg.Percent = pg.Done * 100 / pg.Total
	}
	ended := j.state == jobFinished || j.interrupted(time.Now())
	if r.Header.Get("HX-Request") == "true" {
		if ended {
			w.Header().Set("HX-Refresh", "true")
			w.WriteHeader(http.StatusOK)
			return
		}
		f := s.newFrame(r, "")
		f.Body = &importBody{Job: &pg}
		s.renderPart(w, r, "import", "importprogress", f)
		return
	}
	switch {
	case j.state == jobFinished:
		b := *j.result
		if j.report != "" {
			b.ReportURL = pg.URL + "/report.csv"
		}
		s.renderImport(w, r, http.StatusOK, e, &b)
	case ended && j.written == 0:
		s.renderImport(w, r, http.StatusOK, e, &importBody{Error: fmt.Sprintf(translate(lang, "import.interruptedNone"), j.done, j.total)})
	case ended:
		s.renderImport(w, r, http.StatusOK, e, &importBody{ValidOnly: true,
			Error: fmt.Sprintf(translate(lang, "import.interrupted"), j.done, j.total, j.written)})
	default:
		s.renderImport(w, r, http.StatusOK, e, &importBody{Job: &pg, ValidOnly: true})
	}
}

// cancelImportJob stops a running job after the batch it is writing: the rows written so far stay, but
// for an all-or-nothing job, which then writes none.
func (s *server) cancelImportJob(w http.ResponseWriter, r *http.Request) {
	e, j := s.importJobOf(w, r)
	if e == nil {
		return
	}
	if err := s.cfg.Jobs.stop(r.Context(), j.id, j.user); err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	http.Redirect(w, r, jobURL(e, j.id), http.StatusSeeOther)
}

// importJobReport answers a finished job's refused rows as a CSV download.
func (s *server) importJobReport(w http.ResponseWriter, r *http.Request) {
	e, j := s.importJobOf(w, r)
	if e == nil {
		return
	}
	if j.state != jobFinished || j.report == "" {
		s.fail(w, r, http.StatusNotFound, nil)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-import-problems.csv"`, e.QueryField()))
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte("\uFEFF" + j.report))
}
