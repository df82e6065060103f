// Command serve serves the built page (site/, from `make site`) on the
// loopback interface:
//
//	go run ./tools/serve [-addr 127.0.0.1:8080] [-dir site]
//
// Everything the page needs is in that folder; the page makes no request to
// any other origin.
package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spikegrad/spikegrad/tools/serve/serve"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen `address` (host:port)")
	dir := flag.String("dir", "site", "the built site's `folder` (make site)")
	flag.Parse()
	if err := run(*addr, *dir); err != nil {
		fmt.Fprintf(os.Stderr, "serve: %v\n", err)
		os.Exit(1)
	}
}

func run(addr, dir string) error {
	if _, err := os.Stat(filepath.Join(dir, "index.html")); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%s has no index.html: build the page first (make site)", dir)
		}
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("spikegrad: serving %s at http://%s/ (Ctrl-C to stop)\n", dir, ln.Addr())
	srv := &http.Server{Handler: serve.Handler(dir), ReadHeaderTimeout: 10 * time.Second}
	return srv.Serve(ln)
}
