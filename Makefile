# Thin wrapper around meson/ninja. See README.md.
BUILD ?= build
DATA ?= ./data
PY := /usr/bin/python3
MESON_OPTS ?=

.PHONY: all deps build run test unit e2e e2e-pg bench asan fuzz clean install

all: build

deps:
	@./scripts/deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_OPTS)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

# The binary (PREFIX/bin), the man page and the systemd unit; then
# `systemctl daemon-reload && systemctl enable --now gatehouse`.
install: build
	meson install -C $(BUILD) $(if $(DESTDIR),--destdir $(DESTDIR))

run: build
	$(BUILD)/gatehouse --data $(DATA) serve

# Tests never skip: without cmocka the unit tests are not built, and that is
# a failure, not an empty pass (docs/CODING_STYLE.md, "Tests").
unit: build
	@[ -x $(BUILD)/test_store ] || { echo "unit tests not built: cmocka missing (scripts/deps.sh installs libcmocka-dev)" >&2; exit 1; }
	meson test -C $(BUILD) --suite unit --print-errorlogs

# A missing prerequisite or a skip fails the run (tests/e2e/conftest.py).
# E2E_JOBS > 1 runs test files in parallel (pytest-xdist, one file per worker
# at a time): most e2e time is spent waiting on servers and clients.
E2E_JOBS ?= 1
E2E_PAR = $(if $(filter-out 1,$(E2E_JOBS)),-n $(E2E_JOBS) --dist loadfile)
# Tests marked `serial` (timing comparisons, load loops) run alone afterwards.
e2e: build
ifeq ($(E2E_PAR),)
	GATEHOUSE_BIN=$(abspath $(BUILD))/gatehouse $(PY) -m pytest -q --durations=15 tests/e2e $(PYTEST_ARGS)
else
	GATEHOUSE_BIN=$(abspath $(BUILD))/gatehouse $(PY) -m pytest -q --durations=15 $(E2E_PAR) \
		-m "not serial" tests/e2e $(PYTEST_ARGS)
	GATEHOUSE_BIN=$(abspath $(BUILD))/gatehouse $(PY) -m pytest -q --durations=5 -m serial \
		tests/e2e $(PYTEST_ARGS) || [ $$? -eq 5 ] # 5: none selected
endif

test: unit e2e

# A representative part of the e2e suite once more with the store on
# PostgreSQL (tests/e2e/pgenv.py starts a throwaway cluster); any file runs
# so with GATEHOUSE_TEST_DB=postgresql.
E2E_PG_FILES = test_ssh.py test_web_api.py test_live.py test_telnet.py test_db_postgresql.py \
	test_gateway.py test_pgstore.py
e2e-pg: build
	GATEHOUSE_TEST_DB=postgresql GATEHOUSE_BIN=$(abspath $(BUILD))/gatehouse $(PY) -m pytest -q \
		--durations=5 $(E2E_PAR) $(addprefix tests/e2e/,$(E2E_PG_FILES)) $(PYTEST_ARGS)

bench: build
	./bench/run.sh $(BUILD)

# The sanitizers run the unit tests and, of the e2e suite, the modules that
# exercise a network parser or protocol (`pytestmark_protocol = True`, see
# tests/e2e/conftest.py); the fuzz targets cover the parsers further.
ASAN_DESELECT = --deselect tests/e2e/test_channels.py::test_paramiko_sequence_20_runs_under_busy_loops
asan:
	GATEHOUSE_E2E_SUBSET=protocol $(MAKE) test BUILD=build-asan MESON_OPTS="-Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug" PYTEST_ARGS="$(ASAN_DESELECT) $(PYTEST_ARGS)"

# Build the libFuzzer targets with clang and run each for FUZZ_SECONDS on its corpus.
FUZZ_SECONDS ?= 20
fuzz: deps
	[ -f build-fuzz/build.ninja ] || CC=clang meson setup build-fuzz -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug -Dc_args=-fsanitize=fuzzer-no-link
	ninja -C build-fuzz
	./scripts/fuzz.sh build-fuzz $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) build-asan build-fuzz
