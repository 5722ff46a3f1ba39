package postgres

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// explainConnect is why a connection failed, said for the person who set
// the target: what went wrong, in a sentence rather than pgx's list of
// attempts (with the default sslmode, prefer, two per host: one with TLS,
// one without), and what to change. connString is the target's url,
// which tells where a setting such as sslmode came from.
func explainConnect(connString string, c *pgx.ConnConfig, err error) error {
	var ce *pgconn.ConnectError
	if !errors.As(err, &ce) {
		return err
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		// The server answered: its answer is the reason.
		return &connectError{msg: serverRefused(connString, c, pg), err: err}
	}
	tried := attempts(ce.Unwrap())
	for _, explain := range []func(error) string{
		func(e error) string { return certProblem(connString, c, e) },
		func(e error) string { return sslRefused(connString, c, e) },
		func(e error) string { return unreachable(c, e) },
	} {
		for _, a := range tried {
			if msg := explain(a); msg != "" {
				return &connectError{msg: msg, err: err}
			}
		}
	}
	// Something else: the last attempt's own words, without the list.
	last := tried[len(tried)-1]
	return &connectError{msg: strings.TrimPrefix(last.Error(), addressPrefix(last)), err: err}
}

// badSettings is why pgx could not read a url, said without the url:
// pgx's error quotes it with the password masked, which a url it cannot
// read (an unterminated quote in key=value pairs) leaves partly shown.
func badSettings(err error) error {
	var pce *pgconn.ParseConfigError
	if !errors.As(err, &pce) {
		return err
	}
	text := pce.Error()
	if inner := errors.Unwrap(pce); inner != nil {
		text = strings.TrimSuffix(text, " ("+inner.Error()+")")
	}
	// pgx's own words follow the quoted url, and hold no "`: ".
	reason := ""
	if i := strings.LastIndex(text, "`: "); i >= 0 {
		reason = text[i+len("`: "):]
	}
	if inner := errors.Unwrap(pce); inner != nil {
		reason += " (" + inner.Error() + ")"
	}
	return &connectError{msg: "bad connection settings: " + reason, err: err}
}

// connectError is why a connection failed, said without the attempts
// that came before; it unwraps to pgx's error.
type connectError struct {
	msg string
	err error
}

func (e *connectError) Error() string { return e.msg }
func (e *connectError) Unwrap() error { return e.err }

// attempts lists the errors of each host and TLS mode pgx tried.
func attempts(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, attempts(e)...)
		}
		return out
	}
	// "hostname resolving error: " around the lookups' errors.
	if u := errors.Unwrap(err); u != nil {
		if _, ok := u.(interface{ Unwrap() []error }); ok {
			return attempts(u)
		}
	}
	return []error{err}
}

// addressPrefix is the "host:port (host): " pgx puts before an attempt's error.
var addressPrefixRe = regexp.MustCompile(`^\S+ \([^)]*\): `)

func addressPrefix(err error) string { return addressPrefixRe.FindString(err.Error()) }

// serverRefused says the server's refusal and what to do about it.
func serverRefused(connString string, c *pgx.ConnConfig, pg *pgconn.PgError) string {
	msg := pg.Message
	if pg.Detail != "" {
		msg += " (" + pg.Detail + ")"
	}
	msg = fmt.Sprintf("%s (SQLSTATE %s)", msg, pg.Code)
	switch {
	case pg.Code == "28P01" && c.Password == "":
		return msg + fmt.Sprintf(": the server asks role %s for a password, and none was given: put it in the url (postgres://%s:PASSWORD@...), or in PGPASSWORD or ~/.pgpass", c.User, c.User)
	case pg.Code == "28P01":
		return msg + fmt.Sprintf(": the server refused the password given for role %s (%s): correct it there (a role that does not exist is refused so too; the server's log says which)", c.User, passwordSource(connString))
	case pg.Code == "3D000":
		return msg + fmt.Sprintf(": correct the database's name (the url's path, or dbname:), or have it created (create database %s owner %s)", SQLName(c.Database), SQLName(c.User))
	case pg.Code == "28000" && strings.HasPrefix(pg.Message, "role "):
		return msg + fmt.Sprintf(": correct the role's name (the url's user, or user:), or have it created (create role %s login password '...')", SQLName(c.User))
	case pg.Code == "28000" && strings.Contains(pg.Message, "pg_hba.conf"):
		fix := fmt.Sprintf(": the server's pg_hba.conf lets no connection of role %s to database %s in from this machine: have its administrator add a line for them (and reload it)", c.User, c.Database)
		if strings.Contains(pg.Message, "no encryption") {
			fix += ", or connect with SSL (sslmode=require) if a hostssl line lets them in"
		}
		return msg + fix
	case pg.Code == "42501":
		return msg + fmt.Sprintf(": have role %s granted it (grant connect on database %s to %s)", c.User, SQLName(c.Database), SQLName(c.User))
	case pg.Code == "53300":
		return "the server has no free connection (" + msg + "): try again once other sessions have ended (pg_stat_activity lists them), or have the limit raised (the server's max_connections, or the role's or database's connection limit)"
	case pg.Code == "08P01" && strings.HasPrefix(pg.Message, "unsupported startup parameter: "):
		name := strings.TrimPrefix(pg.Message, "unsupported startup parameter: ")
		return msg + fmt.Sprintf(": a connection pooler (PgBouncer) between strata and the server takes no %s when connecting: remove it from the url (or PGOPTIONS), or have the pooler ignore it (ignore_startup_parameters = %s in its configuration)", name, name)
	case pg.Code == "57P03":
		return msg + ": the server is starting, stopping or recovering: try again once it accepts connections"
	}
	return msg
}

// passwordSource says where the password of connString came from, as
// libpq looks for one: the url (a target's password: is put in it), else
// PGPASSWORD, else a service's, else the password file.
func passwordSource(connString string) string {
	if connParam(connString, "password") != "" {
		return "in the url, or the target's password:"
	}
	if u, err := url.Parse(connString); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			return "in the url"
		}
	}
	if os.Getenv("PGPASSWORD") != "" {
		return "in PGPASSWORD"
	}
	if svc := service(connString); svc != "" {
		return "in service " + svc + " of the service file, or the password file"
	}
	if f := os.Getenv("PGPASSFILE"); f != "" {
		return "in the password file " + f + " (PGPASSFILE)"
	}
	return "in the password file ~/.pgpass"
}

// sslmodeSource is where the sslmode of connString came from, said as a
// user set it ("sslmode=require in the url", "PGSSLMODE=require"), and
// how to set another there (fix("prefer")); "" when it is the default.
func sslmodeSource(connString string) (said string, fix func(mode string) string) {
	if mode := connParam(connString, "sslmode"); mode != "" {
		return "sslmode=" + mode + " in the url", func(m string) string { return "set sslmode=" + m + " in the url" }
	}
	if mode := os.Getenv("PGSSLMODE"); mode != "" {
		return "PGSSLMODE=" + mode, func(m string) string { return "set PGSSLMODE=" + m }
	}
	if svc := service(connString); svc != "" {
		return "the sslmode of service " + svc, func(m string) string { return "set sslmode=" + m + " in service " + svc + " of the service file" }
	}
	return "the sslmode", func(m string) string { return "set sslmode=" + m }
}

// service is the service (of the service file) connString names, or PGSERVICE.
func service(connString string) string {
	if svc := connParam(connString, "service"); svc != "" {
		return svc
	}
	return os.Getenv("PGSERVICE")
}

// connParam is the value of key in a connection string, a url
// (postgres://...?sslmode=require) or key=value pairs.
func connParam(connString, key string) string {
	if strings.HasPrefix(connString, "postgres://") || strings.HasPrefix(connString, "postgresql://") {
		u, err := url.Parse(connString)
		if err != nil {
			return ""
		}
		return u.Query().Get(key)
	}
	m := regexp.MustCompile(`(?:^|\s)` + key + `\s*=\s*(?:'((?:[^'\\]|\\.)*)'|(\S+))`).FindStringSubmatch(connString)
	if m == nil {
		return ""
	}
	return m[1] + m[2]
}

// sslRefused says a server that does not offer SSL to a connection whose
// sslmode demands it (require, verify-ca, verify-full).
func sslRefused(connString string, c *pgx.ConnConfig, err error) string {
	// With sslmode prefer (the default) or allow, pgx tries without SSL
	// too, and that attempt's error is the one to say.
	if !strings.Contains(err.Error(), "tls error: server refused TLS connection") || c.TLSConfig == nil {
		return ""
	}
	for _, fb := range c.Fallbacks {
		if fb.TLSConfig == nil {
			return ""
		}
	}
	said, fix := sslmodeSource(connString)
	return fmt.Sprintf("the server does not offer SSL, and %s demands it: turn SSL on at the server (ssl = on in its postgresql.conf, with a certificate), or, on a network you trust, %s", said, fix("prefer"))
}

// certProblem says why the server's certificate was not accepted.
func certProblem(connString string, c *pgx.ConnConfig, err error) string {
	said, fix := sslmodeSource(connString)
	root := connParam(connString, "sslrootcert")
	if root == "" {
		root = os.Getenv("PGSSLROOTCERT")
	}
	if home, herr := os.UserHomeDir(); root == "" && herr == nil {
		if p := filepath.Join(home, ".postgresql", "root.crt"); fileExists(p) {
			root = p
		}
	}
	trusted := "those of sslrootcert " + root
	if root == "" {
		trusted = "the system's, as no sslrootcert, PGSSLROOTCERT or ~/.postgresql/root.crt names others"
	} else if root == "system" {
		trusted = "the system's (sslrootcert=system)"
	}
	var unknown x509.UnknownAuthorityError
	var name x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &unknown):
		subject := ""
		if unknown.Cert != nil {
			subject = " (" + unknown.Cert.Subject.String() + ")"
		}
		return fmt.Sprintf("the server's certificate%s is signed by an authority not trusted here (the authorities trusted are %s), and %s checks it: give the certificate of the authority that signed it (sslrootcert=/path/to/root.crt in the url, or PGSSLROOTCERT), or %s, which encrypts without checking the certificate", subject, trusted, said, fix("require"))
	case errors.As(err, &name):
		return fmt.Sprintf("the server's certificate is not for host %s (%v), and %s checks the name: connect by a name the certificate holds, or %s, which checks the authority only", c.Host, name.Error(), said, fix("verify-ca"))
	case errors.As(err, &invalid):
		return fmt.Sprintf("the server's certificate is not valid: %v: have it renewed or replaced on the server, or %s, which encrypts without checking it", invalid.Error(), fix("require"))
	}
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// unreachable says a server that could not be reached: a host name not
// known, nothing listening, no answer, or something that is not a
// PostgreSQL server answering.
func unreachable(c *pgx.ConnConfig, err error) string {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		if dns.IsNotFound {
			return fmt.Sprintf("host %s is not known (the name lookup found no such host): correct the host in the url (or host:)", dns.Name)
		}
		return fmt.Sprintf("the name lookup of host %s failed (%v): check this machine's DNS and network, or give the host's address", dns.Name, dns.Err)
	}
	at := strings.TrimSuffix(addressPrefix(err), ": ")
	if i := strings.Index(at, " ("); i >= 0 {
		at = at[:i]
	}
	if at == "" {
		at = where(c)
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("nothing listens on %s (connection refused): check the host and port of the url (or host:, port:), and that the server runs and listens there (listen_addresses)", at)
	case errors.Is(err, syscall.ENOENT) && strings.HasPrefix(c.Host, "/"):
		return fmt.Sprintf("no server listens on the socket %s: check that the server runs, or give the host and port it listens on", at)
	case pgconn.Timeout(err):
		return noAnswer(c).Error()
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return fmt.Sprintf("%s cannot be reached from this machine (%v): check the host in the url (or host:) and the network", at, errors.Unwrap(errors.Unwrap(err)))
	case strings.Contains(err.Error(), "failed to receive message") || strings.Contains(err.Error(), "unexpected message"):
		return fmt.Sprintf("what answers on %s is not a PostgreSQL server (it does not speak PostgreSQL's protocol): check the port of the url (or port:)", at)
	}
	return ""
}

// noAnswer says a server that did not answer within the connect_timeout.
func noAnswer(c *pgx.ConnConfig) error {
	return fmt.Errorf("%s did not answer within the connect_timeout (%s): check that this machine reaches it (a firewall that drops packets looks like this), or raise connect_timeout", where(c), c.ConnectTimeout)
}

// where is the address of the server c connects to, "host:port" or a socket's folder.
func where(c *pgx.ConnConfig) string {
	if strings.HasPrefix(c.Host, "/") {
		return c.Host
	}
	return net.JoinHostPort(c.Host, fmt.Sprint(c.Port))
}
