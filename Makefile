# Thin wrapper over CMake for the README's two commands.
#   make run   - install missing packages, build Release, start the demo origins and weir on conf/weir.yaml
#   make test  - install missing packages, then scripts/test.sh: the whole CTest suite in a
#                Release build, again under ASan+UBSan and under TSan, then the fuzz targets
#                (WEIR_TEST_QUICK=1 make test: the Release stage only)
#   make test-release | test-asan | test-tsan | test-fuzz  - one stage
#   make bench        - install wrk, nginx-light, haproxy and varnish; bench/compare.sh: weir against
#                       them on every workload (pass-through, cache hits, Zipf, open-loop latency)
#   make bench-fault  - the same installs; bench/fault.sh (one of two backends killed and restarted)
#   make bench-reload - the same installs; bench/reload.sh (reloads and binary upgrades under load)
#   make bench-stale  - the same installs; bench/stale.sh (the origin killed behind each cache: stale content)
#   make bench-purge  - bench/purge.sh (hits while 100,000 tagged objects are purged)
#   make bench-loadgen - bench/loadgen.sh (weir-bench against wrk on the same origin: req/s, CPU per request)
BUILD ?= build
JOBS ?= $(shell nproc)
MAKEFLAGS += --no-print-directory
export BUILD JOBS

.PHONY: deps build run test test-release test-asan test-tsan test-fuzz bench bench-fault bench-reload bench-stale bench-purge bench-loadgen clean
deps:
	@scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

run: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) --target weir weir-origin
	@scripts/run-demo.sh $(BUILD)

test: deps
	@scripts/test.sh

test-release test-asan test-tsan test-fuzz: deps
	@scripts/test.sh $(@:test-%=%)

bench: build
	@WEIR_BENCH_DEPS=1 scripts/deps.sh
	@bench/compare.sh $(BUILD)

bench-fault: build
	@WEIR_BENCH_DEPS=1 scripts/deps.sh
	@bench/fault.sh $(BUILD)

bench-reload: build
	@WEIR_BENCH_DEPS=1 scripts/deps.sh
	@bench/reload.sh $(BUILD)

bench-stale: build
	@WEIR_BENCH_DEPS=1 scripts/deps.sh
	@bench/stale.sh $(BUILD)

bench-purge: build
	@WEIR_BENCH_DEPS=1 scripts/deps.sh
	@bench/purge.sh $(BUILD)

bench-loadgen: build
	@WEIR_BENCH_DEPS=1 scripts/deps.sh
	@bench/loadgen.sh $(BUILD)

clean:
	rm -rf $(BUILD) build-asan build-tsan build-fuzz
