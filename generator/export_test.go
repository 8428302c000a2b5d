package generator

// SetSourceTypesAbove sets the ent package size above which gqlgen type-checks from source, and returns
// what restores it.
func SetSourceTypesAbove(n int64) (restore func()) {
	old := sourceTypesAbove
	sourceTypesAbove = n
	return func() { sourceTypesAbove = old }
}
