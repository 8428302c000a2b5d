package admin

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// What the screens take from a request and send back to the browser beyond pages: posted forms, redirect
// targets, and cookies.

// localPath returns target when a browser would read it as a path on this site, and "/" otherwise. Every
// redirect target taken from a request (next=… of the sign-in page, the language switch and the forms)
// passes through it, so none can send the user to another site.
//
// It decides on what a browser makes of the value (the WHATWG URL standard), not on how it is spelt:
// browsers drop tab, CR and LF anywhere and C0 controls and spaces at either end, read "\" as "/" in
// http(s) URLs, and take a path that starts with two slashes, however spelt ("//", "/\", "\\"), for another
// host. So the target must start with exactly one "/", and control characters anywhere, and spaces and
// backslashes in its path, are refused outright. The path is checked again after each round of
// percent-decoding, in case something on the way decodes "/%2F/host" once more; a path this app makes is
// never encoded twice.
func localPath(target string) string {
	for i := 0; i < len(target); i++ {
		if c := target[i]; c < 0x20 || c == 0x7f {
			return "/"
		}
	}
	path := target
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i] // the query and fragment cannot change the origin
	}
	for range 3 {
		if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "//") || strings.ContainsAny(path, "\\ \x7f") ||
			strings.ContainsFunc(path, func(r rune) bool { return r < 0x20 }) {
			return "/"
		}
		decoded, err := url.PathUnescape(path)
		if err != nil {
			return "/"
		}
		if decoded == path {
			return target
		}
		path = decoded
	}
	return "/"
}

// redirect sends the browser to a path of this site after a form post or a GET that changes nothing
// (the language): 303 See Other, or for htmx an HX-Redirect header. The target passes through localPath
// whatever its origin.
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	to = localPath(to)
	if r.Header.Get("HX-Request") == "true" {
		w.Header().Set("HX-Redirect", to)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// parseForm reads a posted form, answering 413 for one larger than the application allows (the shell
// bounds every request body) and 400 for a malformed one. It reports whether the handler may go on.
func parseForm(w http.ResponseWriter, r *http.Request) bool {
	var err error
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "multipart/form-data" {
		err = r.ParseMultipartForm(1 << 20) // a form with a file input; larger files wait on disk
	} else {
		err = r.ParseForm()
	}
	if err == nil {
		return true
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		http.Error(w, fmt.Sprintf("the form is too large: the limit is %d bytes", tooLarge.Limit), http.StatusRequestEntityTooLarge)
		return false
	}
	http.Error(w, "the form could not be read", http.StatusBadRequest)
	return false
}

// setCookie sends c, marked Secure when the request came over HTTPS (directly, or through a trusted
// proxy that says so) or the application is configured for HTTPS only: a cookie set over HTTPS must not
// travel over plain HTTP afterwards.
func (s *server) setCookie(w http.ResponseWriter, r *http.Request, c *http.Cookie) {
	c.Secure = s.cfg.Sessions != nil && s.cfg.Sessions.SecureRequest(r)
	http.SetCookie(w, c)
}

// setFlash keeps a message for the page after the next redirect, in a cookie holding a catalogue key
// (never user text).
func (s *server) setFlash(w http.ResponseWriter, r *http.Request, key string) {
	s.setCookie(w, r, &http.Cookie{Name: "flash", Value: url.QueryEscape(key), Path: "/", MaxAge: 60,
		HttpOnly: true, SameSite: http.SameSiteLaxMode})
}
