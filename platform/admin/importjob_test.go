package admin

import (
	"testing"
	"time"
)

// TestImportJobs checks the jobs' table: a job is found only by its user and for its entity, a user
// runs one import at a time, and a finished job is forgotten after jobKeep.
func TestImportJobs(t *testing.T) {
	var js importJobs
	a := &importJob{id: "a", user: 1, entity: "Patient"}
	if js.add(a) != nil {
		t.Fatal("the first job is refused")
	}
	if js.get("a", 1, "Patient") != a {
		t.Errorf("its user does not find the job")
	}
	if js.get("a", 2, "Patient") != nil || js.get("a", 1, "Visit") != nil || js.get("b", 1, "Patient") != nil {
		t.Errorf("another user, another entity or another id finds the job")
	}
	if js.add(&importJob{id: "b", user: 1, entity: "Visit"}) != a {
		t.Errorf("a second import of the same user is not refused while the first runs")
	}
	if js.add(&importJob{id: "c", user: 2, entity: "Patient"}) != nil {
		t.Errorf("another user's import is refused")
	}
	a.finish(&importBody{}, nil, nil, nil, "en", nil)
	if js.add(&importJob{id: "d", user: 1, entity: "Patient"}) != nil {
		t.Errorf("a new import is refused after the first has ended")
	}
	if js.get("a", 1, "Patient") == nil {
		t.Errorf("the finished job is forgotten at once")
	}
	a.mu.Lock()
	a.ended = time.Now().Add(-jobKeep - time.Minute)
	a.mu.Unlock()
	if js.get("a", 1, "Patient") != nil {
		t.Errorf("a job finished more than jobKeep ago is still found")
	}
	js.add(&importJob{id: "e", user: 3, entity: "Patient"})
	if _, kept := js.byID["a"]; kept {
		t.Errorf("an old finished job is kept in the table")
	}
}
