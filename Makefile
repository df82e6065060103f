# spikegrad: see README.md. `make run` and `make test` are the two that matter.
GO      ?= go
GOROOT  := $(shell $(GO) env GOROOT)
BENCH   ?= $(HOME)/.cache/spikegrad-bench
PYTHON  ?= /usr/bin/python3

.PHONY: run test vet unit wasm-test fixtures bench fuzz clean

# The main job on the embedded demo: network, batch, table.
run:
	$(GO) run ./tools/spikegrad

test: vet unit wasm-test

vet:
	@test -z "$$(gofmt -l snn tools wasm)" || { gofmt -l snn tools wasm; echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...

unit:
	$(GO) test ./...

# The engine's tests again, compiled to WebAssembly and run under node.
# js/wasm is single-threaded and dies at start with GOMAXPROCS > 1.
wasm-test:
	env -u GOMAXPROCS GOOS=js GOARCH=wasm PATH="$(GOROOT)/lib/wasm:$$PATH" $(GO) test ./snn/...

# Regenerate the PyTorch fixtures (needs Debian's python3-torch).
fixtures:
	$(PYTHON) tools/ref/make_fixtures.py

# The user's workload: full-width VGG16, batch 32, T=8; PyTorch against the CLI.
bench:
	$(PYTHON) tools/ref/bench_ref.py $(BENCH) --make-only
	$(GO) build -o bin/spikegrad ./tools/spikegrad
	@echo "== PyTorch (all cores)"; /usr/bin/time -f "wall %e s, peak RSS %M KiB" $(PYTHON) tools/ref/bench_ref.py $(BENCH) | cut -c1-120
	@echo "== spikegrad (all cores)"; /usr/bin/time -f "wall %e s, peak RSS %M KiB" bin/spikegrad -ckpt $(BENCH)/vgg16_full.pth -data $(BENCH)/batch.bin -n 32 -T 8 -json | cut -c1-120
	@echo "== spikegrad (GOMAXPROCS=1)"; GOMAXPROCS=1 /usr/bin/time -f "wall %e s, peak RSS %M KiB" bin/spikegrad -ckpt $(BENCH)/vgg16_full.pth -data $(BENCH)/batch.bin -n 32 -T 8 -json | cut -c1-120
	$(GO) test -run XXX -bench . -benchtime 3x ./snn

clean:
	rm -rf bin site
