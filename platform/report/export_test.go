package report

// Apriori exposes apriori to the package's external benchmarks: the number of rules of sorted baskets.
func Apriori(baskets [][]int, minSupport, minConfidence float64) int {
	return len(apriori(baskets, minSupport, minConfidence))
}

// MustPass is mustPass, for TestFunnelStatesPassed.
var MustPass = mustPass
