# mailvault: the two commands are `make run` and `make test` (README.md).
SHELL := /bin/bash
JOBS  ?= $(shell nproc)
BUILD ?= build
DATA  ?= ./var
CONFIG ?= conf/mailvault.toml
FUZZ_SECONDS ?= 300

.PHONY: all deps configure build run deb test format-check unit asan fuzz-build fuzz fuzz-short integration bench clean

all: build

deps:
	@scripts/deps.sh

# Configuring again is cheap and picks up components added since the last run.
configure: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null

build: configure
	cmake --build $(BUILD) -j$(JOBS)

# Starts mailvaultd on the embedded default store in ./var (created on first
# run). Builds only the programs (and the preview helper beside them), not the tests.
run: configure
	cmake --build $(BUILD) -j$(JOBS) --target mailvaultd mailvault mailvault-preview
	$(BUILD)/bin/mailvaultd --config $(CONFIG) --data $(DATA)

# The Debian package mailvault_$(VERSION)_amd64.deb, here, from the
# release build's programs (CPack: packaging/CMakeLists.txt says why).
VERSION ?= 0.1.0
deb: configure
	cmake --build $(BUILD) -j$(JOBS) --target mailvaultd mailvault mailvault-preview
	packaging/build-deb.sh $(BUILD)/bin . $(VERSION)

# Every test: the format check, unit tests, the same under ASan/UBSan,
# integration suites, and a short fuzz run over the seed corpora.
test: build
	$(MAKE) format-check unit asan integration fuzz-short

# Every C++ file as clang-format (the repo's .clang-format) would write it;
# `clang-format -i FILE` fixes one.
format-check: deps
	git ls-files -z '*.cc' '*.h' | xargs -0 clang-format --dry-run -Werror

unit:
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

asan: deps
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DMV_SANITIZE=ON -DMV_BENCH=OFF > /dev/null
	cmake --build build-asan -j$(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j$(JOBS)

integration: build
	tests/integration/run.sh $(BUILD)/bin

fuzz-build: deps
	CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DMV_FUZZ=ON -DMV_TESTS=OFF -DMV_BENCH=OFF > /dev/null
	cmake --build build-fuzz -j$(JOBS)

# A short run over the seed corpora (part of `make test`).
fuzz-short: fuzz-build
	tests/fuzz/run.sh build-fuzz 20

# A long run: FUZZ_SECONDS per target.
fuzz: fuzz-build
	tests/fuzz/run.sh build-fuzz $(FUZZ_SECONDS)

bench: build
	bench/run.sh $(BUILD)

clean:
	rm -rf build build-asan build-fuzz
