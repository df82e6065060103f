# spikegrad: see README.md. `make run` and `make test` are the two that matter.
GO      ?= go
GOROOT  := $(shell $(GO) env GOROOT)
BENCH   ?= $(HOME)/.cache/spikegrad-bench
PYTHON  ?= /usr/bin/python3
# The engine for the browser is built without inlining: the browser compiles
# each Go function on first use and again, optimised, once it is hot, and
# smaller functions cost it less while the page starts (a demo worker under
# node: 0.85x the CPU; full VGG16: 0.94x the time; results byte-identical).
# The hot loops are in the SIMD module, which this does not touch. The
# readers' loops in the standard library keep their inlining: a checkpoint's
# CRC and a gzip archive's inflate run once over the whole file (full VGG16's
# 135 MB checkpoint loads in the page in 0.8x the time, gzip inflates 1.4x
# as fast).
WASMBUILD := GOOS=js GOARCH=wasm $(GO) build -trimpath -gcflags=all=-l \
	-gcflags=compress/...= -gcflags=hash/...= -gcflags=internal/byteorder=

.PHONY: run site serve test vet unit wasm-test simd browser-test fixtures bench fuzz clean

# The page on the embedded demo, served on http://127.0.0.1:8080/.
run: site
	$(GO) run ./tools/serve

# The page, in site/: index.html, web/ (the worker with Go's wasm_exec.js in
# front, so that it starts with one request), the engine compiled to
# WebAssembly and the part of ECharts it uses (web/echarts/bundle.js, bundled
# from npm's ECharts, pinned in package-lock.json).
site: node_modules/.package-lock.json
	rm -rf site
	mkdir -p site/web
	cp index.html site/
	cp web/*.js web/*.css site/web/
	cat "$(GOROOT)/lib/wasm/wasm_exec.js" web/worker.js > site/web/worker.js
	node_modules/.bin/esbuild web/echarts/bundle.js --bundle --minify --format=iife --global-name=echarts \
		--legal-comments=eof --log-level=warning --outfile=site/echarts.min.js \
		--banner:js='/*! Apache ECharts 5.6.0 and ZRender 5.6.1, under the Apache License 2.0: http://www.apache.org/licenses/LICENSE-2.0 */'
	$(WASMBUILD) -o site/spikegrad.wasm ./wasm
	@ls -l site/spikegrad.wasm | awk '{printf "site/spikegrad.wasm: %.1f MiB\n", $$5/1048576}'

# npm ci again only when node_modules is missing or older than the lock file.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# Serve the site as it is (make site first).
serve:
	$(GO) run ./tools/serve

test: vet unit wasm-test browser-test

vet:
	@test -z "$$(gofmt -l snn tools wasm)" || { gofmt -l snn tools wasm; echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...

# tools/browsertest needs the built site and chromium: browser-test runs it.
unit:
	$(GO) test -timeout 30m $$($(GO) list ./... | grep -v /tools/browsertest$$)

# The engine's tests again, compiled to WebAssembly and run under node.
# js/wasm is single-threaded and dies at start with GOMAXPROCS > 1.
wasm-test: node_modules/.package-lock.json
	@mkdir -p bin
	node snn/kern/simd/build.mjs snn/kern/simd/gemm.wat bin/gemm.wasm
	@cmp -s bin/gemm.wasm snn/kern/simd/gemm.wasm || { echo "snn/kern/simd/gemm.wasm is not what gemm.wat compiles to: make simd"; exit 1; }
	env -u GOMAXPROCS GOOS=js GOARCH=wasm PATH="$(GOROOT)/lib/wasm:$$PATH" $(GO) test -timeout 30m ./snn/... ./wasm

# The page's WebAssembly SIMD kernel, compiled from its text with wabt (npm).
simd: node_modules/.package-lock.json
	node snn/kern/simd/build.mjs snn/kern/simd/gemm.wat snn/kern/simd/gemm.wasm

# The page in headless chromium (Debian's, installed here when missing, with a
# CJK font for the Chinese screenshots): the demo, a fixture run against
# PyTorch's numbers, Chinese, a bad file.
browser-test: site
	@test -x /usr/bin/chromium || { \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium fonts-wqy-microhei; }
	$(GO) test ./tools/browsertest -v -count=1 -timeout 60m

# Regenerate the PyTorch fixtures (needs Debian's python3-torch).
fixtures:
	$(PYTHON) tools/ref/make_fixtures.py
	$(PYTHON) tools/ref/make_teach_fixtures.py
	$(PYTHON) tools/ref/make_curve_fixtures.py

# Issue 16's fixtures: QCFS's BottleNeck ResNets and MyFloor (about 18 minutes
# on 2 shared cores), and an ImageNet-style folder against torchvision's
# ImageFolder (needs python3-torchvision).
.PHONY: fixtures-deep
fixtures-deep:
	$(PYTHON) tools/ref/make_deep_fixtures.py
	$(PYTHON) tools/ref/make_imagefolder_fixtures.py

# The float64 fixtures (issue 13): snn/testdata/f64_cases.json and the full-width
# ResNet20, recomputed; then the full-width VGG16 and ResNet18 cases in $(BENCH)
# (made once: delete $(BENCH)/f64_cases.json to recompute).
.PHONY: fixtures-f64
fixtures-f64:
	$(PYTHON) tools/ref/make_f64_fixtures.py --committed-only --force
	$(PYTHON) tools/ref/make_f64_fixtures.py --cache $(BENCH) --cache-only

# The user's workload: full-width VGG16, CIFAR-10, T=8: PyTorch against the
# CLI (one core, all cores), its wasm build under node and the page in
# headless Chromium, in one table with the targets; then the Go benchmarks of
# the engine and its kernels, and the full-width float64 checks.
bench: site
	$(PYTHON) tools/ref/bench_ref.py $(BENCH) --make-only
	$(PYTHON) tools/ref/make_f64_fixtures.py --cache $(BENCH) --cache-only
	$(GO) build -o bin/spikegrad ./tools/spikegrad
	$(WASMBUILD) -o bin/spikegrad.wasm ./tools/spikegrad
	$(GO) run ./tools/bench -dir $(BENCH)
	SPIKEGRAD_BENCH=$(BENCH) $(GO) test -run XXX -bench . -benchtime 2x ./snn
	@echo "The full-width float64 cases (VGG16, ResNet18) against PyTorch model.double(), natively and under wasm:"
	SPIKEGRAD_BENCH=$(BENCH) $(GO) test -count=1 -v -run 'TestFloat64AgainstPyTorch|TestFloat32Spread' ./snn > $(BENCH)/f64-native.log; \
		st=$$?; grep -E '^ *(---|ok|FAIL)|float32 |float64:' $(BENCH)/f64-native.log; exit $$st
	env -u GOMAXPROCS SPIKEGRAD_BENCH=$(BENCH) GOOS=js GOARCH=wasm PATH="$(GOROOT)/lib/wasm:$$PATH" $(GO) test -count=1 -v -run TestFloat64AgainstPyTorch ./snn > $(BENCH)/f64-wasm.log; \
		st=$$?; grep -E '^ *(---|ok|FAIL)|float64:' $(BENCH)/f64-wasm.log; exit $$st

# A one-node Slurm from Debian's packages (munge, slurmctld, slurmd on
# localhost; installed when missing): an array job of 4 shards and a dependent
# merge job (tools/cluster/shard.sbatch, merge.sbatch), in float32 and
# float64, each merge checked against one run; with make bench's full-width
# VGG16 in $(BENCH), 4 shards of it timed against one run. Not in make test.
.PHONY: cluster-test
cluster-test:
	BENCH=$(BENCH) GO=$(GO) bash tools/cluster/cluster-test.sh

clean:
	rm -rf bin site artifacts
