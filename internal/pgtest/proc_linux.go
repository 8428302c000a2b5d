package pgtest

import "syscall"

// setParentDeathSignal makes the kernel send sig to the child when the thread
// that started it ends (see cluster.serve).
func setParentDeathSignal(a *syscall.SysProcAttr, sig syscall.Signal) {
	a.Pdeathsig = sig
}
