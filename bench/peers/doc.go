// Package peers holds the peer benchmark, run by hand with `bash bench/peers/run.sh`: the app crmgen
// generates from model/ against PostGraphile and the hand-written Go server in baseline/, on one
// PostgreSQL with the same data (data.sql) and the same query (query/). This package has no code; its
// test checks that the parts the run needs are well-formed, since the run itself is too long for CI.
package peers
