// Command baseline is the hand-written Go server of the peer benchmark (bench/peers/run.sh): what a
// developer would write instead of generating a CRM, reading the tables the generated app created. It
// answers the benchmark's one read query and one write, and nothing else: no sign-in, no permissions,
// no audit, no GraphQL parser.
//
//	POST /graphql        the 50 grade-A customers by name, each with its owner's name and its 5 latest
//	                     opportunities, in the JSON shape the generated app answers (the body is read and
//	                     ignored); two SQL statements a request
//	POST /opportunities  {"title", "amount", "customerID"}: one INSERT, answers {"id"}
//	GET  /healthz        200 once the database answers
//
// It uses a pgx pool of 10 connections, as the benchmark gives PostGraphile.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// customersSQL selects the page of customers with their owners' names.
const customersSQL = `SELECT c.id, c.name, u.id, u.display_name
FROM customers c LEFT JOIN users u ON u.id = c.owner_id
WHERE c.grade = $1
ORDER BY c.name
LIMIT $2`

// opportunitiesSQL selects the latest opportunities of each of a list of customers, in one statement.
const opportunitiesSQL = `SELECT o.customer_id, o.id, o.title, o.amount::float8, o.stage, o.created_at
FROM unnest($1::bigint[]) AS c(id)
CROSS JOIN LATERAL (
	SELECT * FROM opportunities o WHERE o.customer_id = c.id ORDER BY o.created_at DESC, o.id DESC LIMIT $2
) o`

// insertSQL creates one opportunity in the initial stage. created_at and updated_at have no column
// default (ent sets them in Go), so the statement sets them.
const insertSQL = `INSERT INTO opportunities (title, amount, stage, created_at, updated_at, customer_id)
VALUES ($1, $2, 'lead', now(), now(), $3) RETURNING id`

func main() {
	db := flag.String("db", os.Getenv("DATABASE_URL"), "postgres:// URL of the database the generated app created")
	addr := flag.String("addr", "127.0.0.1:8090", "address to listen on (port 0: any free port)")
	flag.Parse()
	if err := run(*db, *addr); err != nil {
		log.Fatal(err)
	}
}

func run(dsn, addr string) error {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return fmt.Errorf("parse -db: %w", err)
	}
	cfg.MaxConns = 10
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()

	s := &server{pool: pool}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /graphql", s.customers)
	mux.HandleFunc("POST /opportunities", s.createOpportunity)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := pool.Ping(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok\n")
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("baseline is ready at http://%s\n", ln.Addr())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

type server struct {
	pool *pgxpool.Pool
}

// The response mirrors the generated app's answer to the benchmark's query.
type (
	response struct {
		Data struct {
			Customers struct {
				Edges []customerEdge `json:"edges"`
			} `json:"customers"`
		} `json:"data"`
	}
	customerEdge struct {
		Node customer `json:"node"`
	}
	customer struct {
		id            int64
		Name          string `json:"name"`
		Owner         *owner `json:"owner"`
		Opportunities struct {
			Edges []opportunityEdge `json:"edges"`
		} `json:"opportunities"`
	}
	owner struct {
		DisplayName *string `json:"displayName"`
	}
	opportunityEdge struct {
		Node opportunity `json:"node"`
	}
	opportunity struct {
		ID        string    `json:"id"`
		Title     string    `json:"title"`
		Amount    *float64  `json:"amount"`
		Stage     string    `json:"stage"`
		CreatedAt time.Time `json:"createdAt"`
	}
)

func (s *server) customers(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body) // the query is fixed
	ctx := r.Context()
	edges := make([]customerEdge, 0, 50)
	rows, err := s.pool.Query(ctx, customersSQL, "A", 50)
	if err != nil {
		fail(w, err)
		return
	}
	byID := make(map[int64]int, 50)
	ids := make([]int64, 0, 50)
	for rows.Next() {
		var (
			c         customer
			ownerID   *int64
			ownerName *string
		)
		if err := rows.Scan(&c.id, &c.Name, &ownerID, &ownerName); err != nil {
			rows.Close()
			fail(w, err)
			return
		}
		if ownerID != nil {
			c.Owner = &owner{DisplayName: ownerName}
		}
		c.Opportunities.Edges = []opportunityEdge{}
		byID[c.id] = len(edges)
		ids = append(ids, c.id)
		edges = append(edges, customerEdge{Node: c})
	}
	if err := rows.Err(); err != nil {
		fail(w, err)
		return
	}

	rows, err = s.pool.Query(ctx, opportunitiesSQL, ids, 5)
	if err != nil {
		fail(w, err)
		return
	}
	for rows.Next() {
		var (
			customerID, id int64
			o              opportunity
		)
		if err := rows.Scan(&customerID, &id, &o.Title, &o.Amount, &o.Stage, &o.CreatedAt); err != nil {
			rows.Close()
			fail(w, err)
			return
		}
		o.ID = strconv.FormatInt(id, 10)
		c := &edges[byID[customerID]].Node
		c.Opportunities.Edges = append(c.Opportunities.Edges, opportunityEdge{Node: o})
	}
	if err := rows.Err(); err != nil {
		fail(w, err)
		return
	}
	var resp response
	resp.Data.Customers.Edges = edges
	writeJSON(w, http.StatusOK, &resp)
}

// createInput is the body of POST /opportunities.
type createInput struct {
	Title      string   `json:"title"`
	Amount     *float64 `json:"amount"`
	CustomerID string   `json:"customerID"`
}

func (s *server) createOpportunity(w http.ResponseWriter, r *http.Request) {
	var in createInput
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		http.Error(w, "body: "+err.Error(), http.StatusBadRequest)
		return
	}
	customerID, err := strconv.ParseInt(in.CustomerID, 10, 64)
	if err != nil || in.Title == "" || len(in.Title) > 200 || (in.Amount != nil && *in.Amount < 0) {
		http.Error(w, "want a title of 1 to 200 characters, an amount of at least 0 and a customerID", http.StatusBadRequest)
		return
	}
	var id int64
	if err := s.pool.QueryRow(r.Context(), insertSQL, in.Title, in.Amount, customerID).Scan(&id); err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": strconv.FormatInt(id, 10)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, err error) {
	if errors.Is(err, pgx.ErrNoRows) {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	log.Print(err)
	http.Error(w, "database error", http.StatusInternalServerError)
}
