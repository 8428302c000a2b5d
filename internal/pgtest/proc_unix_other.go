//go:build unix && !linux

package pgtest

import "syscall"

// setParentDeathSignal does nothing: only Linux has a parent-death signal. A
// server whose test process ended without Stop runs until it is killed.
func setParentDeathSignal(*syscall.SysProcAttr, syscall.Signal) {}
