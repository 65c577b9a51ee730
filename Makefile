# A thin wrapper around Meson; see README.md.
BUILD      ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 30
MESON      ?= meson

.PHONY: all build deps run test asan tsan fuzz bench soak stress install clean format

all: build

deps:
	@scripts/install-deps

$(BUILD)/build.ninja:
	@command -v meson >/dev/null 2>&1 && pkg-config --exists libmicrohttpd cmocka || scripts/install-deps
	$(MESON) setup $(BUILD) --prefix=/usr/local

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

run: build
	@scripts/demo-run $(BUILD)

test: build
	@scripts/install-deps >/dev/null || scripts/install-deps
	$(MESON) test -C $(BUILD) --print-errorlogs --num-processes 2

asan:
	@test -f $(ASAN_BUILD)/build.ninja || $(MESON) setup $(ASAN_BUILD) -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
	ninja -C $(ASAN_BUILD)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	  GUISE_SANITIZED=1 $(MESON) test -C $(ASAN_BUILD) --print-errorlogs --num-processes 2 --timeout-multiplier 3

# ThreadSanitizer: the unit suites that run plug-ins and the host on threads
# (core, basic, digest, negotiate). tests/tsan.supp lists what is known.
tsan:
	@test -f $(TSAN_BUILD)/build.ninja || $(MESON) setup $(TSAN_BUILD) -Db_sanitize=thread -Db_lundef=false -Dbuildtype=debug
	ninja -C $(TSAN_BUILD)
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$(CURDIR)/tests/tsan.supp \
	  GUISE_SANITIZED=1 $(MESON) test -C $(TSAN_BUILD) --print-errorlogs --num-processes 2 \
	  --timeout-multiplier 5 --suite core --suite basic --suite digest --suite negotiate

fuzz:
	@test -f $(FUZZ_BUILD)/build.ninja || CC=clang $(MESON) setup $(FUZZ_BUILD) -Dfuzzing=true -Dtests=false -Dbuildtype=debugoptimized
	ninja -C $(FUZZ_BUILD)
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/run-fuzzers $(FUZZ_BUILD)

bench: build
	@scripts/install-deps --bench
	bench/run-all.sh $(BUILD)

soak: build
	tests/stress/soak.sh $(BUILD) 60

# Isolation stress with 100,000 requests per impersonation mechanism, then
# the fault drills (root; see docs/RELIABILITY.md).
stress: build
	GUISE_BUILD_DIR=$(abspath $(BUILD)) GUISE_STRESS_REQUESTS=100000 python3 -B tests/stress/isolation.py
	GUISE_BUILD_DIR=$(abspath $(BUILD)) python3 -B tests/stress/test_faults.py

# meson install also creates the system account guised switches to (guise)
# and the directories it writes (scripts/install-service-account).
install: build
	$(MESON) install -C $(BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
