// Package smtpsink is a minimal SMTP server for tests: it accepts every message and records it, so
// e-mail delivery is tested over a real SMTP conversation without a mail server.
package smtpsink

import (
	"bufio"
	"io"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
)

// Sink is a running SMTP server on 127.0.0.1.
type Sink struct {
	ln   net.Listener
	mu   sync.Mutex
	msgs []Mail
}

// Mail is one accepted message.
type Mail struct {
	From string
	To   []string
	Data string
}

// Start starts a sink that stops when the test ends.
func Start(t testing.TB) *Sink {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Sink{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

// Addr is the sink's host:port.
func (s *Sink) Addr() string { return s.ln.Addr().String() }

func (s *Sink) serve(c net.Conn) {
	defer c.Close()
	r := textproto.NewReader(bufio.NewReader(c))
	reply := func(line string) { io.WriteString(c, line+"\r\n") }
	reply("220 sink ready")
	var cur Mail
	for {
		line, err := r.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			reply("250 sink")
		case "MAIL":
			cur = Mail{From: arg}
			reply("250 ok")
		case "RCPT":
			cur.To = append(cur.To, arg)
			reply("250 ok")
		case "DATA":
			reply("354 go ahead")
			data, err := r.ReadDotBytes()
			if err != nil {
				return
			}
			cur.Data = string(data)
			s.mu.Lock()
			s.msgs = append(s.msgs, cur)
			s.mu.Unlock()
			reply("250 queued")
		case "QUIT":
			reply("221 bye")
			return
		case "RSET", "NOOP":
			reply("250 ok")
		default:
			reply("502 not implemented")
		}
	}
}

// Mails returns the messages accepted so far.
func (s *Sink) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.msgs...)
}
