package generator

import (
	"bytes"
	"fmt"
	"go/format"
	"regexp"
)

// entgql's field collection loads a to-one edge with one query, which each GraphQL field of the edge
// replaces: with two aliases of one relation selecting different fields (a: customer { name } b: customer
// { nick }), the second alias's query wins and the first answers empty values (ent's own limit, see
// ent/ent#2755 for the to-many case, which entgql solved with named edges). patchCollection makes every
// alias of a to-one edge collect into the same query, so it loads the union of the fields they select
// (or every column, once any alias needs every column).
var toOneEdge = regexp.MustCompile(`(?m)^(\t+)query = \(&(\w+)Client\{config: _q\.config\}\)\.Query\(\)\n(\t+)\)\n(\t+)if err := query\.collectField\(([^\n]*)\); err != nil \{\n\t+return err\n\t+\}\n(\t+)_q\.with(\w+) = query\n`)

// patchCollection rewrites ent/gql_collection.go; it fails if entgql's output no longer has the shape it
// expects (a version change must revisit it).
func patchCollection(src []byte) ([]byte, error) {
	n := 0
	out := toOneEdge.ReplaceAllFunc(src, func(m []byte) []byte {
		n++
		g := toOneEdge.FindSubmatch(m)
		ind, client, close, callInd, args, setInd, edge := g[1], g[2], g[3], g[4], g[5], g[6], g[7]
		return fmt.Appendf(nil, "%squery = (&%sClient{config: _q.config}).Query()\n%s)\n"+
			"%s// Every alias of this to-one edge loads into one query (crmgen: see generator/entgqlpatch.go).\n"+
			"%sall := false\n"+
			"%sif prev := _q.with%s; prev != nil {\n%s\tquery, all = prev, len(prev.ctx.Fields) == 0\n%s}\n"+
			"%sif err := query.collectField(%s); err != nil {\n%s\treturn err\n%s}\n"+
			"%sif all {\n%s\tquery.ctx.Fields = nil\n%s}\n"+
			"%s_q.with%s = query\n",
			ind, client, close,
			callInd,
			callInd,
			callInd, edge, callInd, callInd,
			callInd, args, callInd, callInd,
			callInd, callInd, callInd,
			setInd, edge)
	})
	if n == 0 && toOneCandidates.Match(src) {
		return nil, fmt.Errorf("patch ent/gql_collection.go: entgql's to-one edge collection has changed shape")
	}
	return out, nil
}

// toOneCandidates finds a to-one edge collection, to tell "no to-one edges" from "a shape the patch does
// not know".
var toOneCandidates = regexp.MustCompile(`_q\.with\w+ = query\n`)

// gqlgen resolves the elements of every list of objects in goroutines of their own. The rows of a page
// are loaded by then (entgql collects the fields a query selects into its ent query), so resolving them
// waits on nothing, and a goroutine per element, with the stack it grows, cost a fifth of a list query's
// CPU. patchExecutor points the generated executor at gqltype.MarshalSlice, which marshals them in turn.
var concurrentSlice = regexp.MustCompile(`\bgraphql\.MarshalSliceConcurrently\(`)

// Each connection of records is first offered to platform/gqlwrite, which writes the loaded rows'
// JSON directly when it knows every field selected (see its doc); otherwise gqlgen marshals it.
var connectionMarshaler = regexp.MustCompile(`(?m)^func \(ec \*executionContext\) _(\w+)Connection\(ctx context\.Context, sel ast\.SelectionSet, obj \*ent\.(\w+)Connection\) graphql\.Marshaler \{\n`)

// patchExecutor rewrites graph/generated.go; it fails if gqlgen's output no longer has the shape it
// expects (a version change must revisit it).
func patchExecutor(src []byte) ([]byte, error) {
	if !concurrentSlice.Match(src) {
		return src, nil // no list of objects in the schema
	}
	out := concurrentSlice.ReplaceAll(src, []byte("gqltype.MarshalSlice("))
	imports := []string{"github.com/crmgen/crmgen/platform/gqltype"}
	if connectionMarshaler.Match(out) {
		out = connectionMarshaler.ReplaceAll(out, []byte("$0\tif m, ok := gqlwrite.Connection(ctx, ec.OperationContext, sel, \"$1\", obj); ok {\n\t\treturn m\n\t}\n"))
		imports = append(imports, pkgGQLWrite)
	}
	for _, pkg := range imports {
		if !bytes.Contains(out, []byte(`"`+pkg+`"`)) {
			out = bytes.Replace(out, []byte("\nimport (\n"), []byte("\nimport (\n\t\""+pkg+"\"\n"), 1)
		}
	}
	formatted, err := format.Source(out)
	if err != nil {
		return nil, fmt.Errorf("patch graph/generated.go: %w", err)
	}
	return formatted, nil
}

// entgql's Paginate counts every row of a connection (SELECT COUNT) whenever pageInfo is selected, even
// when totalCount is not and the edges are loaded, though the page's own rows (one more than asked for)
// then set hasNextPage and hasPreviousPage over whatever the count said: a million-row table paid 150 ms
// a page for a number no one asked for. patchPagination counts for pageInfo only when no rows are loaded
// (edges not selected, or first or last 0), which is when pageInfo is read from the count.
const paginateCount = "if hasCollectedField(ctx, totalCountField) || hasCollectedField(ctx, pageInfoField) {"

// entgql finds a connection's edges, node, pageInfo and totalCount in the query by their aliases, so a
// list whose edges a client renames (e: edges { n: node { … } }) loaded no rows and answered an empty
// list. patchPagination finds them by name as well.
const collectedByAlias = "if f.Alias == name {"

// patchPagination rewrites ent/gql_pagination.go; it fails if entgql's output no longer has the shape it
// expects (a version change must revisit it).
func patchPagination(src []byte) ([]byte, error) {
	if !bytes.Contains(src, []byte(") Paginate(")) {
		return src, nil
	}
	if !bytes.Contains(src, []byte(paginateCount)) || bytes.Count(src, []byte(collectedByAlias)) != 1 {
		return nil, fmt.Errorf("patch ent/gql_pagination.go: entgql's Paginate has changed shape")
	}
	src = bytes.ReplaceAll(src, []byte(collectedByAlias),
		[]byte("if f.Alias == name || f.Name == name && (name == edgesField || name == nodeField || name == pageInfoField || name == totalCountField) { // crmgen: see generator/entgqlpatch.go"))
	return bytes.ReplaceAll(src, []byte(paginateCount),
		[]byte("if hasCollectedField(ctx, totalCountField) || (ignoredEdges || (first != nil && *first == 0) || (last != nil && *last == 0)) && hasCollectedField(ctx, pageInfoField) { // crmgen: see generator/entgqlpatch.go")), nil
}
