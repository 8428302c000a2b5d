//go:build unix

package pgtest

import (
	"fmt"
	"os"
	"os/user"
	"runtime"
	"strconv"
	"syscall"
)

// account is the OS user that runs initdb and postgres.
type account = syscall.Credential

// quitSignal asks the postmaster for an immediate shutdown.
const quitSignal = syscall.SIGQUIT

// serverUser returns the OS user to run the server as: nil (this process's
// user) unless the process is root, which initdb and postgres refuse; then
// the user postgres that Debian's package creates.
func serverUser() (*account, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, which initdb refuses, and no OS user postgres to run it as: %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("uid of user postgres: %w", err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("gid of user postgres: %w", err)
	}
	return &account{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// procAttr runs a child as cred (nil: as this process's user); with
// dieWithParent, a Linux child gets SIGQUIT when this process ends.
func procAttr(cred *account, dieWithParent bool) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Credential: cred}
	if dieWithParent {
		setParentDeathSignal(a, quitSignal)
	}
	return a
}

// processAlive reports whether a process with the id exists.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}

// localeFlag gives the cluster Unicode-aware character classes (upper, lower,
// ILIKE on non-ASCII text) with byte-order collation. glibc has C.UTF-8 built in.
func localeFlag() string {
	if runtime.GOOS == "linux" {
		return "--locale=C.UTF-8"
	}
	return "--no-locale"
}
