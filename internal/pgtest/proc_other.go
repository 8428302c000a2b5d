//go:build !unix

package pgtest

import (
	"os"
	"syscall"
)

// account is the OS user that runs initdb and postgres; unused here.
type account struct{ Uid, Gid uint32 }

// quitSignal stops the postmaster; Windows has no SIGQUIT.
var quitSignal = os.Kill

func serverUser() (*account, error) { return nil, nil }

func procAttr(*account, bool) *syscall.SysProcAttr { return nil }

// processAlive is conservative: it never lets sweep remove a directory.
func processAlive(int) bool { return true }

func localeFlag() string { return "--no-locale" }
