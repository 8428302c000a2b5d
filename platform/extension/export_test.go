package extension

// ForgetFunction removes a registered function, so a test can register a stray one and go on.
func ForgetFunction(name string) {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	delete(reg.funcs, name)
}
