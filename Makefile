# Thin wrapper over CMake for the README's two commands.
#   make run   - install missing packages, build Release, start the demo origins and weir on conf/weir.yaml
#   make test  - install missing packages, build Release with tests, run the whole CTest suite
BUILD ?= build
JOBS ?= $(shell nproc)
MAKEFLAGS += --no-print-directory

.PHONY: deps build run test bench clean
deps:
	@scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

run: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) --target weir weir-origin
	@scripts/run-demo.sh $(BUILD)

test: build
	@cd $(BUILD) && ctest --output-on-failure --timeout 300 -j $(JOBS)

bench: build
	@WEIR_BENCH_DEPS=1 scripts/deps.sh
	@bench/compare.sh $(BUILD)

clean:
	rm -rf $(BUILD)
