package standin

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// CA is a throw-away certificate authority and the server certificate it
// signed for 127.0.0.1, ::1 and localhost (ECDSA P-256, valid 24 h). Clients
// trust it through CAFile: AWS_CA_BUNDLE for the AWS SDKs and CLI,
// NODE_EXTRA_CA_CERTS for Node.
type CA struct {
	CAFile string // PEM of the CA certificate
	PEM    []byte // the same PEM
	pool   *x509.CertPool
	server tls.Certificate
}

// NewCA generates a CA and a server certificate and writes the CA's PEM to
// dir/ca.pem.
func NewCA(dir string) (*CA, error) {
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "s3vend local stand-in CA", Organization: []string{"s3vend"}},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("standin: CA certificate: %w", err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	srvTmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("standin: server certificate: %w", err)
	}
	ca := &CA{
		CAFile: filepath.Join(dir, "ca.pem"),
		PEM:    pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pool:   x509.NewCertPool(),
		server: tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey, Leaf: nil},
	}
	ca.pool.AddCert(caCert)
	if err := os.WriteFile(ca.CAFile, ca.PEM, 0o644); err != nil {
		return nil, fmt.Errorf("standin: write CA: %w", err)
	}
	return ca, nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	return n
}

// ServerConfig is the TLS configuration of the stand-in servers (TLS 1.2+,
// so the bucket policy's s3:TlsVersion condition holds).
func (c *CA) ServerConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{c.server}, MinVersion: tls.VersionTLS12}
}

// HTTPClient is a client that trusts the CA (for tests and health checks).
func (c *CA) HTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: c.pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// Server is a handler served on 127.0.0.1 on a free port.
type Server struct {
	URL string // https://127.0.0.1:PORT or http://127.0.0.1:PORT, no trailing slash
	srv *http.Server
}

// ServeTLS serves h over HTTPS with ca's server certificate on 127.0.0.1:0.
func ServeTLS(h http.Handler, ca *CA) (*Server, error) {
	if ca == nil {
		return nil, errors.New("standin: ServeTLS needs a CA")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{URL: "https://" + ln.Addr().String(), srv: newHTTPServer(h)}
	s.srv.TLSConfig = ca.ServerConfig()
	go func() { _ = s.srv.Serve(tls.NewListener(ln, s.srv.TLSConfig)) }()
	return s, nil
}

// ServePlain serves h over plain HTTP on 127.0.0.1:0 (the API Gateway and
// WeChat stand-ins: the vendor accepts http for loopback hosts).
func ServePlain(h http.Handler) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{URL: "http://" + ln.Addr().String(), srv: newHTTPServer(h)}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10}
}

// Close stops the server and its connections.
func (s *Server) Close() error {
	if s == nil || s.srv == nil {
		return nil
	}
	return s.srv.Close()
}
