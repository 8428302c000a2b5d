// Command importbench is the Go half of bench/import.sh: it writes the benchmark's CSV of hospital
// patients, times an import of it through the admin screens of a running app (upload, then the job's
// page polled until it shows the result), and times the two baselines of the same run: the same rows
// created by the GraphQL create mutation called directly (operations of 500 aliased creates, as the
// import's batches are), and inserted by a hand-written SQL INSERT loop in one transaction.
//
//	importbench csv    -n 10000 -o patients.csv
//	importbench admin  -url http://127.0.0.1:8080 -user liuyang -password doctor123 -file patients.csv [-mode all]
//	importbench graphql -url http://127.0.0.1:8080 -user liuyang -password doctor123 -file patients.csv
//	importbench sql    -db app.db -file patients.csv      (or -db postgres://…)
//
// Each timing prints one line, "rows seconds", on standard output.
package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/ncruces/go-sqlite3/driver"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "importbench:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: importbench csv|admin|graphql|sql [flags]")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	n := fs.Int("n", 10000, "rows to write (csv)")
	file := fs.String("file", "", "the CSV file")
	o := fs.String("o", "", "where to write the CSV (csv)")
	base := fs.String("url", "", "the running app's address (admin, graphql)")
	user := fs.String("user", "liuyang", "who imports (admin, graphql)")
	password := fs.String("password", "doctor123", "their password")
	db := fs.String("db", "", "the app's database: a SQLite path or a postgres:// URL (sql)")
	mode := fs.String("mode", "valid", "the import's mode: valid (the valid rows) or all (all or nothing) (admin)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	var rows [][]string
	if args[0] != "csv" {
		var err error
		if rows, err = readRows(*file); err != nil {
			return err
		}
	}
	start := time.Now()
	var err error
	switch args[0] {
	case "csv":
		f, err := os.Create(*o)
		if err != nil {
			return err
		}
		if err := writeCSV(f, *n); err != nil {
			return err
		}
		return f.Close()
	case "admin":
		if *mode != "valid" && *mode != "all" {
			return fmt.Errorf("-mode %q: want valid or all", *mode)
		}
		err = adminImport(*base, *user, *password, *file, *mode, len(rows))
	case "graphql":
		err = graphqlCreate(*base, *user, *password, rows)
	case "sql":
		err = sqlInsert(*db, rows)
	default:
		return fmt.Errorf("unknown command %q", args[0])
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%d %.3f\n", len(rows), time.Since(start).Seconds())
	return nil
}

// header is the CSV's header: the patients' labels, as a hospital's export would name them.
var header = []string{"姓名", "性别", "出生日期", "手机号", "患者等级", "账户余额", "主诊科室", "住址"}

// writeCSV writes n patients, the same for every run (a fixed seed), each valid.
func writeCSV(w io.Writer, n int) error {
	rnd := rand.New(rand.NewPCG(1, 2))
	family, given := []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"), []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华")
	depts := []string{"心内科", "骨科", "儿科", "内分泌科"}
	cw := csv.NewWriter(w)
	cw.Write(header)
	for i := range n {
		name := string([]rune{family[rnd.IntN(len(family))], given[rnd.IntN(len(given))], given[rnd.IntN(len(given))]})
		birth := time.Date(1940+rnd.IntN(80), time.Month(1+rnd.IntN(12)), 1+rnd.IntN(28), 0, 0, 0, 0, time.UTC)
		cw.Write([]string{
			fmt.Sprintf("%s%06d", name, i),
			[]string{"male", "female"}[rnd.IntN(2)],
			birth.Format("2006-01-02"),
			fmt.Sprintf("1%010d", rnd.Int64N(1e10)),
			[]string{"A", "B", "C", "D"}[rnd.IntN(4)],
			fmt.Sprintf("%d.%02d", rnd.IntN(10000), rnd.IntN(100)),
			depts[rnd.IntN(len(depts))],
			fmt.Sprintf("杭州市上城区解放路%d号", 1+rnd.IntN(500)),
		})
	}
	cw.Flush()
	return cw.Error()
}

// readRows reads the CSV's data rows, checking its header is the benchmark's.
func readRows(path string) ([][]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	all, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		return nil, err
	}
	if len(all) == 0 || strings.Join(all[0], ",") != strings.Join(header, ",") {
		return nil, fmt.Errorf("%s: not the benchmark's CSV", path)
	}
	return all[1:], nil
}

// client is a browser-like HTTP client of the admin screens: cookies, same-origin posts, no redirects
// followed.
func client(base string) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func post(c *http.Client, base, path, contentType string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodPost, base+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Origin", base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return c.Do(req)
}

var doneRE = regexp.MustCompile(`id="import-(done|error)"[^>]*>([^<]*)`)

// adminImport signs in to the admin screens, uploads the file in mode ("valid" or "all") and polls the
// job's page until it shows the result, which must count every row written.
func adminImport(base, user, password, file, mode string, rows int) error {
	c := client(base)
	form := url.Values{"username": {user}, "password": {password}, "next": {"/"}}
	resp, err := post(c, base, "/login", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("sign in: %s", resp.Status)
	}
	if resp, err = c.Get(base + "/lang?l=en&next=/"); err != nil {
		return err
	}
	resp.Body.Close()
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	mw.WriteField("mode", mode)
	fw, _ := mw.CreateFormFile("file", "patients.csv")
	fw.Write(data)
	mw.Close()
	if resp, err = post(c, base, "/e/Patient/import", mw.FormDataContentType(), &b); err != nil {
		return err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	job := resp.Header.Get("Location")
	switch {
	case resp.StatusCode == http.StatusOK: // a file of at most one batch is imported at once
	case resp.StatusCode != http.StatusSeeOther || job == "":
		return fmt.Errorf("upload: %s, no job\n%s", resp.Status, page)
	}
	for {
		m := doneRE.FindSubmatch(page)
		if m != nil {
			if want := fmt.Sprintf("Imported %d records", rows); string(m[1]) != "done" || !strings.Contains(string(m[2]), want) {
				return fmt.Errorf("the import says %q, want %q", m[2], want)
			}
			return nil
		}
		if job == "" {
			return fmt.Errorf("the import's answer shows no result\n%s", page)
		}
		time.Sleep(200 * time.Millisecond)
		resp, err := c.Get(base + job)
		if err != nil {
			return err
		}
		page, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s", job, resp.Status)
		}
	}
}

// graphqlCreate signs in to the API and creates the rows with the create mutation, 500 aliased creates
// an operation (what one batch of the import sends), the values typed as the import types them.
func graphqlCreate(base, user, password string, rows [][]string) error {
	call := func(token, query string, vars map[string]any) (map[string]any, error) {
		body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, base+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var out struct {
			Data   map[string]any
			Errors []struct{ Message string }
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			return nil, err
		}
		if len(out.Errors) > 0 {
			return nil, fmt.Errorf("graphql: %s", out.Errors[0].Message)
		}
		return out.Data, nil
	}
	data, err := call("", `mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }`,
		map[string]any{"u": user, "p": password})
	if err != nil {
		return err
	}
	token, _ := data["login"].(map[string]any)["token"].(string)
	// The departments by name, as the import looks them up.
	data, err = call(token, `{ teams(first: 100) { edges { node { id name } } } }`, nil)
	if err != nil {
		return err
	}
	depts := map[string]string{}
	for _, e := range data["teams"].(map[string]any)["edges"].([]any) {
		nd := e.(map[string]any)["node"].(map[string]any)
		depts[nd["name"].(string)] = fmt.Sprint(nd["id"])
	}
	const batch = 500
	for start := 0; start < len(rows); start += batch {
		chunk := rows[start:min(start+batch, len(rows))]
		var q strings.Builder
		vars := map[string]any{}
		q.WriteString("mutation(")
		for i := range chunk {
			if i > 0 {
				q.WriteString(", ")
			}
			fmt.Fprintf(&q, "$i%d: CreatePatientInput!", i)
		}
		q.WriteString(") {")
		for i, r := range chunk {
			fmt.Fprintf(&q, " r%d: createPatient(input: $i%d) { id }", i, i)
			vars["i"+strconv.Itoa(i)] = map[string]any{"name": r[0], "gender": r[1], "birthDate": r[2] + "T00:00:00+08:00", "phone": r[3],
				"grade": r[4], "balance": r[5], "departmentID": depts[r[6]], "address": r[7]}
		}
		q.WriteString(" }")
		if _, err := call(token, q.String(), vars); err != nil {
			return fmt.Errorf("rows %d–%d: %w", start, start+len(chunk), err)
		}
	}
	return nil
}

// cst is the hospital example's zone (app.timezone), in which a date is its midnight.
var cst = time.FixedZone("CST", 8*3600)

// sqlInsert is the floor: the rows inserted by a hand-written INSERT loop, one prepared statement in one
// transaction, straight into the app's patients table (the app stopped). Columns the file does not
// fill are copied from a patient of the demo data (owner, timestamps); ids continue the table's; the
// audit history and the number sequence the API keeps are not written.
func sqlInsert(dsn string, rows [][]string) error {
	driver, pg := "sqlite3", strings.HasPrefix(dsn, "postgres")
	if pg {
		driver = "pgx"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	q := func(s string) string { return `"` + s + `"` }
	tmpl, err := db.Query("SELECT * FROM patients ORDER BY id LIMIT 1")
	if err != nil {
		return err
	}
	cols, _ := tmpl.Columns()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if !tmpl.Next() {
		tmpl.Close()
		return errors.New("no patient to copy: load the demo data first")
	}
	if err := tmpl.Scan(ptrs...); err != nil {
		return err
	}
	tmpl.Close()
	var maxID int64
	if err := db.QueryRow("SELECT max(id) FROM patients").Scan(&maxID); err != nil {
		return err
	}
	depts := map[string]int64{}
	dr, err := db.Query("SELECT id, name FROM teams")
	if err != nil {
		return err
	}
	for dr.Next() {
		var id int64
		var name string
		dr.Scan(&id, &name)
		depts[name] = id
	}
	dr.Close()
	var names, marks []string
	for i, c := range cols {
		names = append(names, q(c))
		if pg {
			marks = append(marks, "$"+strconv.Itoa(i+1))
		} else {
			marks = append(marks, "?")
		}
	}
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt, err := tx.Prepare(fmt.Sprintf("INSERT INTO patients (%s) VALUES (%s)", strings.Join(names, ", "), strings.Join(marks, ", ")))
	if err != nil {
		return err
	}
	for n, r := range rows {
		row := make([]any, len(cols))
		copy(row, vals)
		birth, _ := time.ParseInLocation("2006-01-02", r[2], cst)
		for i, c := range cols {
			switch c {
			case "id":
				row[i] = maxID + 1 + int64(n)
			case "code":
				row[i] = fmt.Sprintf("B%07d", n)
			case "name":
				row[i] = r[0]
			case "gender":
				row[i] = r[1]
			case "birth_date":
				row[i] = birth
			case "phone":
				row[i] = r[3]
			case "grade":
				row[i] = r[4]
			case "balance":
				row[i] = r[5]
			case "team_patients", "department_id", "patient_department":
				row[i] = depts[r[6]]
			case "address":
				row[i] = r[7]
			case "id_card":
				row[i] = nil
			}
		}
		if _, err := stmt.Exec(row...); err != nil {
			return fmt.Errorf("row %d: %w", n+2, err)
		}
	}
	return tx.Commit()
}
