package postgres_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"strata/engine/adapter/postgres"
	"strata/engine/internal/pgtest"
)

// TestConnectOpensItsConnectionsAtOnce: Connect opens the pool's
// connections side by side as it starts (a run needs one for its lock and
// one per thread), so that no build waits for a server process to start.
func TestConnectOpensItsConnectionsAtOnce(t *testing.T) {
	ctx := context.Background()
	db, err := postgres.Connect(ctx, pgtest.DB(t), 3)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(10 * time.Second)
	for db.Stat().TotalConns() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections open 10 s after Connect, want 3", db.Stat().TotalConns())
		}
		time.Sleep(5 * time.Millisecond)
	}
	// They are the pool's: a command uses them without opening more.
	if got := db.Stat().MaxConns(); got != 3 {
		t.Errorf("at most %d connections, want 3", got)
	}
}

// TestConnectAsksForKeepalives: strata's sessions ask the server to probe
// them (tcp_keepalives_idle 30s, interval 10s, count 3), so that the
// sessions of a client whose machine vanished without closing them (power
// lost, network down), the run lock's among them, end within about a
// minute. They were kept for the operating system's 2 hours 11 minutes,
// their locks with them: the next run waited, or failed under --no-wait.
// A url that sets one wins. Over the harness's unix socket the server
// shows them as 0 (it has nothing to probe), so what is read is what the
// session asked for: reset_val, its source the client.
func TestConnectAsksForKeepalives(t *testing.T) {
	ctx := context.Background()
	url := pgtest.DB(t)
	for _, c := range []struct{ name, url, want string }{
		{"by default", url, "tcp_keepalives_count=3 client; tcp_keepalives_idle=30 client; tcp_keepalives_interval=10 client"},
		{"the url's win", url + "&tcp_keepalives_idle=600&tcp_keepalives_count=9", "tcp_keepalives_count=9 client; tcp_keepalives_idle=600 client; tcp_keepalives_interval=10 client"},
	} {
		t.Run(c.name, func(t *testing.T) {
			db, err := postgres.Connect(ctx, c.url, 1)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			_, rows, err := db.QueryText(ctx, "select string_agg(name || '=' || reset_val || ' ' || source, '; ' order by name) from pg_settings where name like 'tcp\\_keepalives\\_%'")
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 1 || rows[0][0] == nil || *rows[0][0] != c.want {
				got := "no row"
				if len(rows) == 1 && rows[0][0] != nil {
					got = *rows[0][0]
				}
				t.Errorf("strata's session has\n%s\nwant\n%s", got, c.want)
			}
		})
	}
}

// TestConnectWaitsForItsConnectTimeout: a server that takes the
// connection and never answers is given up on after a while, saying so
// (it said "context deadline exceeded"); a connect_timeout in the url (or
// PGCONNECT_TIMEOUT) is waited for in full: Connect gave up after 15 s
// whatever it said.
func TestConnectWaitsForItsConnectTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // never answered
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	}()
	defer postgres.SetAnswerWait(postgres.SetAnswerWait(500 * time.Millisecond))
	url := "postgres://nobody@" + ln.Addr().String() + "/db?sslmode=disable"
	start := time.Now()
	_, err = postgres.Connect(context.Background(), url, 1)
	if err == nil || !strings.Contains(err.Error(), "the server did not answer within 500ms (a connect_timeout in the url, or PGCONNECT_TIMEOUT, sets how long to wait)") {
		t.Errorf("Connect to a server that never answers: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Connect gave up after %s, want about 500ms", d)
	}
	for _, c := range []struct {
		url string
		env string
	}{{url + "&connect_timeout=2", ""}, {url, "2"}} {
		t.Setenv("PGCONNECT_TIMEOUT", c.env)
		start = time.Now()
		_, err = postgres.Connect(context.Background(), c.url, 1)
		if d := time.Since(start); err == nil || d < 1900*time.Millisecond || d > 10*time.Second {
			t.Errorf("Connect (%s, PGCONNECT_TIMEOUT=%q) gave up after %s, want 2 s (its connect_timeout): %v", c.url, c.env, d, err)
		}
		if want := ": " + ln.Addr().String() + " did not answer within the connect_timeout (2s): check that this machine reaches it (a firewall that drops packets looks like this), or raise connect_timeout"; err == nil || !strings.HasSuffix(err.Error(), want) {
			t.Errorf("Connect (%s, PGCONNECT_TIMEOUT=%q): %v, want it to end with %q", c.url, c.env, err, want)
		}
	}
	// Connect's own wait running out before pgx says its connect_timeout
	// is over (on a loaded machine; here its margin made negative) is
	// said the same way: it said "context deadline exceeded".
	t.Setenv("PGCONNECT_TIMEOUT", "")
	postgres.SetAnswerWait(-1500 * time.Millisecond)
	_, err = postgres.Connect(context.Background(), url+"&connect_timeout=2", 1)
	if want := ": " + ln.Addr().String() + " did not answer within the connect_timeout (2s)"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Connect's wait over first: %v, want it to say %q", err, want)
	}
}

// TestConnectSaysWhyTheServerRefused: a connection the server refuses is
// said by the server's answer alone, and a password it refused, or asked
// for and was not given, says where the password comes from. Over TCP with
// the default sslmode, a wrong password read "failed to connect to ...:
// tls error: server refused TLS connection" before the server's answer.
// The role is made to log in with a password by a line of pg_hba.conf of
// its own, removed when the test ends.
func TestConnectSaysWhyTheServerRefused(t *testing.T) {
	ctx := context.Background()
	url := pgtest.DB(t)
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close(ctx) })
	var db, hba, orig string
	if err := admin.QueryRow(ctx, "select current_database(), current_setting('hba_file'), pg_read_file(current_setting('hba_file'))").Scan(&db, &hba, &orig); err != nil {
		t.Fatal(err)
	}
	role := "pw_" + db
	writeHBA := func(content string) {
		t.Helper()
		// csv with a delimiter and quote no line holds: each line as it
		// is (but empty ones, which csv would quote).
		if _, err := admin.Exec(ctx, fmt.Sprintf("copy (select l from unnest(string_to_array(%s, E'\\n')) l where l <> '') to %s with (format csv, delimiter E'\\x01', quote E'\\x02')",
			literal(content), literal(hba))); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.Exec(ctx, "select pg_reload_conf()"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond) // the postmaster reloads it asynchronously
	}
	if _, err := admin.Exec(ctx, "create role "+role+" login password 'right'"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		writeHBA(strings.TrimSuffix(orig, "\n"))
		_, _ = admin.Exec(context.Background(), "drop role "+role)
	})
	rejected := "rejected_" + db
	if _, err := admin.Exec(ctx, "create role "+rejected+" login"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = admin.Exec(context.Background(), "drop role "+rejected) })
	writeHBA("local all " + role + " scram-sha-256\nlocal all " + rejected + " reject\n" + strings.TrimSuffix(orig, "\n"))
	t.Setenv("PGPASSWORD", "")
	t.Setenv("PGPASSFILE", t.TempDir()+"/none")
	t.Setenv("PGSERVICE", "")
	as := func(userinfo, dbname string) string {
		u := strings.Replace(url, "postgres://postgres@", "postgres://"+userinfo+"@", 1)
		if u == url {
			t.Fatalf("cannot make a URL for another role from %s", url)
		}
		return strings.Replace(u, "/"+db+"?", "/"+dbname+"?", 1)
	}
	a, err := postgres.Connect(ctx, as(role+":right", db), 1)
	if err != nil {
		t.Fatalf("the right password: %v", err)
	}
	a.Close()
	passfile := filepath.Join(t.TempDir(), "pgpass")
	if err := os.WriteFile(passfile, []byte("*:*:*:"+role+":wrong\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	refusedAs := func(from string) string {
		return `password authentication failed for user "` + role + `" (SQLSTATE 28P01): the server refused the password given for role ` + role + ` (` + from + `): correct it there (a role that does not exist is refused so too; the server's log says which)`
	}
	for _, c := range []struct{ url, env, want string }{
		{as(role+":wrong", db), "", refusedAs("in the url")},
		{as(role, db), "PGPASSWORD=wrong", refusedAs("in PGPASSWORD")},
		{as(role, db), "PGPASSFILE=" + passfile, refusedAs("in the password file " + passfile + " (PGPASSFILE)")},
		{as(role, db), "", `password authentication failed for user "` + role + `" (SQLSTATE 28P01): the server asks role ` + role + ` for a password, and none was given: put it in the url (postgres://` + role + `:PASSWORD@...), or in PGPASSWORD or ~/.pgpass`},
		{as(role+":right", "nosuch"), "", `database "nosuch" does not exist (SQLSTATE 3D000): correct the database's name (the url's path, or dbname:), or have it created (create database nosuch owner ` + role + `)`},
		{as(rejected, db), "", `pg_hba.conf rejects connection for host "[local]", user "` + rejected + `", database "` + db + `", no encryption (SQLSTATE 28000): the server's pg_hba.conf lets no connection of role ` + rejected + ` to database ` + db + ` in from this machine: have its administrator add a line for them (and reload it), or connect with SSL (sslmode=require) if a hostssl line lets them in`},
	} {
		if k, v, ok := strings.Cut(c.env, "="); ok {
			t.Setenv(k, v)
		}
		_, err := postgres.Connect(ctx, c.url, 1)
		if err == nil || !strings.HasSuffix(err.Error(), ": "+c.want) || strings.Contains(err.Error(), "failed to connect") {
			t.Errorf("Connect(%s) with %s = %v, want it to end with %q", c.url, c.env, err, c.want)
		}
		t.Setenv("PGPASSWORD", "")
		t.Setenv("PGPASSFILE", t.TempDir()+"/none")
	}
	// A role without CONNECT on the database.
	if _, err := admin.Exec(ctx, "revoke connect on database "+db+" from public"); err != nil {
		t.Fatal(err)
	}
	_, err = postgres.Connect(ctx, as(role+":right", db), 1)
	if want := fmt.Sprintf(`(SQLSTATE 42501): have role %s granted it (grant connect on database %s to %s)`, role, db, role); err == nil || !strings.HasSuffix(err.Error(), want) {
		t.Errorf("without CONNECT: %v, want it to end with %q", err, want)
	}
}

func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// proxy listens on a TCP port of 127.0.0.1 and hands each connection to
// the test's PostgreSQL server through its unix socket, which answers
// an SSLRequest "no" as a server without SSL does. With cert, the proxy
// says "yes" itself and speaks TLS with that certificate, the server
// behind it: a server with SSL on. It returns host:port.
func proxy(t *testing.T, socket string, cert *tls.Certificate) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				var client net.Conn = c
				if cert != nil {
					var req [8]byte // SSLRequest: length 8, code 80877103
					if _, err := io.ReadFull(c, req[:]); err != nil || binary.BigEndian.Uint32(req[4:]) != 80877103 {
						return
					}
					if _, err := c.Write([]byte("S")); err != nil {
						return
					}
					client = tls.Server(c, &tls.Config{Certificates: []tls.Certificate{*cert}})
				}
				s, err := net.Dial("unix", socket)
				if err != nil {
					return
				}
				defer s.Close()
				go func() { _, _ = io.Copy(s, client); s.Close() }()
				_, _ = io.Copy(client, s)
			}()
		}
	}()
	return ln.Addr().String()
}

// selfSigned is a certificate for host name, signed by itself, and its
// PEM file (to give as sslrootcert).
func selfSigned(t *testing.T, name string) (*tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "root.crt")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, file
}

// TestConnectSaysWhatToDo: a connection that fails is said in one
// sentence, what went wrong and what to change, not as pgx's list of
// attempts ("failed to connect to `user=... database=...`: 127.0.0.1:5432
// (127.0.0.1): tls error: server refused TLS connection", once per TLS
// mode tried): sslmode=require against a server without SSL said only
// "tls error"; a certificate not trusted, a host name not known, nothing
// listening, something that is not PostgreSQL answering and a role that
// does not exist said pgx's words, or none of what to do.
func TestConnectSaysWhatToDo(t *testing.T) {
	ctx := context.Background()
	url := pgtest.DB(t)
	cfg, err := pgconn.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	socket := fmt.Sprintf("%s/.s.PGSQL.%d", cfg.Host, cfg.Port)
	plain := proxy(t, socket, nil)
	cert, root := selfSigned(t, "db.example.test")
	withSSL := proxy(t, socket, cert)
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	nothing := closed.Addr().String()
	closed.Close()
	http, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer http.Close()
	go func() {
		for {
			c, err := http.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"))
			c.Close()
		}
	}()
	for _, k := range []string{"PGSSLMODE", "PGSSLROOTCERT", "PGSERVICE", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE"} {
		t.Setenv(k, "")
	}
	t.Setenv("HOME", t.TempDir()) // no ~/.postgresql/root.crt
	db := cfg.Database
	tcp := func(addr, query string) string { return "postgres://postgres@" + addr + "/" + db + "?" + query }

	// The proxies reach the server: SSL where it is on and trusted.
	for _, u := range []string{tcp(plain, "sslmode=prefer"), tcp(withSSL, "sslmode=verify-ca&sslrootcert="+root), tcp(withSSL, "sslmode=require")} {
		a, err := postgres.Connect(ctx, u, 1)
		if err != nil {
			t.Fatalf("Connect(%s): %v", u, err)
		}
		a.Close()
	}

	for _, c := range []struct {
		name, url, env, want string
	}{
		{"require without SSL", tcp(plain, "sslmode=require"), "",
			"the server does not offer SSL, and sslmode=require in the url demands it: turn SSL on at the server (ssl = on in its postgresql.conf, with a certificate), or, on a network you trust, set sslmode=prefer in the url"},
		{"verify-full without SSL, from PGSSLMODE", tcp(plain, "connect_timeout=5"), "verify-full",
			"the server does not offer SSL, and PGSSLMODE=verify-full demands it: turn SSL on at the server (ssl = on in its postgresql.conf, with a certificate), or, on a network you trust, set PGSSLMODE=prefer"},
		{"prefer without SSL: the server's answer", "postgres://postgres@" + plain + "/nosuch?sslmode=prefer", "",
			`database "nosuch" does not exist (SQLSTATE 3D000): correct the database's name (the url's path, or dbname:), or have it created (create database nosuch owner postgres)`},
		{"verify-ca, no root certificate", tcp(withSSL, "sslmode=verify-ca"), "",
			"the server's certificate (CN=db.example.test) is signed by an authority not trusted here (the authorities trusted are the system's, as no sslrootcert, PGSSLROOTCERT or ~/.postgresql/root.crt names others), and sslmode=verify-ca in the url checks it: give the certificate of the authority that signed it (sslrootcert=/path/to/root.crt in the url, or PGSSLROOTCERT), or set sslmode=require in the url, which encrypts without checking the certificate"},
		{"verify-full, another name", tcp(withSSL, "sslmode=verify-full&sslrootcert="+root), "",
			"the server's certificate is not for host 127.0.0.1 (x509: cannot validate certificate for 127.0.0.1 because it doesn't contain any IP SANs), and sslmode=verify-full in the url checks the name: connect by a name the certificate holds, or set sslmode=verify-ca in the url, which checks the authority only"},
		{"nothing listens", tcp(nothing, ""), "",
			"nothing listens on " + nothing + " (connection refused): check the host and port of the url (or host:, port:), and that the server runs and listens there (listen_addresses)"},
		{"no such host", tcp("db.nosuch.invalid:5432", ""), "",
			"host db.nosuch.invalid is not known (the name lookup found no such host): correct the host in the url (or host:)"},
		{"no socket", "postgres://postgres@/" + db + "?host=" + t.TempDir(), "",
			"no server listens on the socket "},
		{"not PostgreSQL", tcp(http.Addr().String(), "sslmode=disable"), "",
			"what answers on " + http.Addr().String() + " is not a PostgreSQL server (it does not speak PostgreSQL's protocol): check the port of the url (or port:)"},
		{"no such role", strings.Replace(url, "postgres://postgres@", "postgres://ghost@", 1), "",
			`role "ghost" does not exist (SQLSTATE 28000): correct the role's name (the url's user, or user:), or have it created (create role ghost login password '...')`},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("PGSSLMODE", c.env)
			_, err := postgres.Connect(ctx, c.url, 1)
			if err == nil {
				t.Fatal("connected")
			}
			msg := err.Error()
			if !strings.Contains(msg, ": "+c.want) || strings.Contains(msg, "failed to connect") || strings.Contains(msg, "\n") || strings.Count(msg, "cannot connect") != 1 {
				t.Errorf("Connect(%s) =\n%s\nwant it to say\n%s", c.url, msg, c.want)
			}
		})
	}
}

// TestBadSettingsDoNotShowThePassword: a url pgx cannot read is said
// without the url: pgx quotes it with the password masked, and a url it
// cannot read (an unterminated quote in key=value pairs) had part of the
// password shown ("password=xxxxx w0rd").
func TestBadSettingsDoNotShowThePassword(t *testing.T) {
	for _, c := range []struct{ url, want string }{
		{"host=127.0.0.1 password='SECRET w0rd port=5", "bad connection settings: failed to parse as keyword/value (unterminated quoted string in connection info string)"},
		{"postgres://etl:SECRETw0rd@127.0.0.1:notaport/shop", "bad connection settings: invalid port"},
		{"postgres://etl:SECRETw0rd@127.0.0.1/shop?sslmode=requir", "bad connection settings: failed to configure TLS (sslmode is invalid)"},
	} {
		_, err := postgres.Connect(context.Background(), c.url, 1)
		if err == nil || strings.Contains(err.Error(), "w0rd") || err.Error() != c.want {
			t.Errorf("Connect(%q) = %v, want %s", c.url, err, c.want)
		}
	}
}
