# sbems - GNU Make + pkg-config, out-of-tree objects in build/.
#
#   make            build the daemon and CLI (release, -O2)      -> build/rel/
#   make check      bootstrap, build everything with ASan+UBSan, run every test
#   make demo       bootstrap, build, start a throwaway sbems with the example site
#   make bench      bootstrap, build release, run the benchmarks (bench/RESULTS.md)
#   make fuzz       build the libFuzzer targets with clang       -> build/fuzz/
#   make install    copy programs, web UI, profiles, docs under PREFIX (/usr/local)
#
# Sources are found by wildcard: every src/**/*.c except the mains goes into
# libsbems.a; each tests/unit/test_*.c becomes one test binary.

SHELL   := /bin/bash
BUILD   ?= build
SAN     ?= 0
CC      ?= cc
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
# -j for sub-makes unless the caller gave one (then they share its jobserver);
# MAKEFLAGS shows -j only inside recipes, hence the shell test.
JFLAG    = $$(case " $$MAKEFLAGS" in *" -j"*|*jobserver*) ;; *) echo -j$(JOBS) ;; esac)
PKGS    := libuv sqlite3 jansson libsodium libwebsockets libjwt xlsxwriter zlib libmodbus libmosquitto libcurl libprotobuf-c \
           xgboost lapacke openblas clp libical libpq hiredis

ifeq ($(SAN),1)
OUT     := $(BUILD)/san
OPT     := -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else
OUT     := $(BUILD)/rel
OPT     := -O2
endif

WARN    := -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes -Wno-unused-parameter -Werror
CPPFLAGS += -Isrc -D_GNU_SOURCE
CFLAGS  += -std=c17 -g $(OPT) $(WARN) -MMD -MP
# pkg-config is evaluated lazily: the bootstrap may install the packages first.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS))
LDLIBS  += -lm -lpthread

MAINS   := src/core/main.c
# src/sim/ (the simulator's building physics and weather) is in the library
# too: the daemon links none of it; its main, when it comes, is not.
LIBSRC  := $(filter-out $(MAINS) src/sim/main.c,$(shell find src -name '*.c' | sort))
ASMSRC  := $(shell find src -name '*.S' | sort)
LIBOBJ  := $(LIBSRC:%.c=$(OUT)/obj/%.o) $(ASMSRC:%.S=$(OUT)/obj/%.o)
TESTSRC := $(sort $(wildcard tests/unit/test_*.c))
TESTS   := $(TESTSRC:tests/unit/%.c=$(OUT)/tests/%)
FUZZSRC := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZERS := $(FUZZSRC:fuzz/%.c=$(BUILD)/fuzz/%)
BINS    := $(OUT)/sbems $(OUT)/sbems-sim

.PHONY: all build web tests check demo bench bench-api bench-sim bench-web bench-alerts bench-analytics bench-fdd fuzz clean bootstrap check-run install install-files
.DEFAULT_GOAL := all

all: bootstrap-build
	@$(MAKE) $(JFLAG) --no-print-directory build

bootstrap-build:
	@scripts/bootstrap build

build: $(BINS) web

# The web UI (web/, docs/internals/web.md): `npm ci` from the lockfile when it
# changed, then TypeScript + Vite into web/dist, which sbems serves (it finds
# it beside build/rel).  A machine without npm builds everything else and says
# so: `scripts/bootstrap demo` (or check) installs Debian's Node.js and npm.
WEBSRC := $(shell find web/src web/public web/tools -type f 2>/dev/null) \
          $(wildcard web/index.html web/*.ts web/*.js web/tsconfig*.json web/package.json)
web:
	@if command -v npm >/dev/null 2>&1; then \
	    $(MAKE) --no-print-directory web/dist/index.html; \
	else echo "  WEB     skipped: no npm here (scripts/bootstrap demo installs Node.js and npm)"; fi

web/node_modules/.package-lock.json: web/package-lock.json
	@echo "  NPM     ci (web/)"
	@cd web && npm ci --no-audit --no-fund --loglevel=error

web/dist/index.html: web/node_modules/.package-lock.json $(WEBSRC)
	@echo "  VITE    web/dist"
	@cd web && npm run --silent build >/dev/null

tests: $(BINS) $(TESTS)

$(OUT)/obj/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	@$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -c $< -o $@

# Data embedded with .incbin (paths from the top of the tree).
$(OUT)/obj/src/api/openapi_data.o: src/api/openapi.json
$(OUT)/obj/%.o: %.S
	@mkdir -p $(@D)
	@echo "  AS      $<"
	@$(CC) -c $< -o $@

$(OUT)/libsbems.a: $(LIBOBJ)
	@rm -f $@
	@echo "  AR      $@"
	@ar rcs $@ $^

$(OUT)/sbems-sim: $(OUT)/obj/src/sim/main.o $(OUT)/libsbems.a
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) $^ -o $@ $(PKG_LIBS) $(LDLIBS)

$(OUT)/sbems: $(OUT)/obj/src/core/main.o $(OUT)/libsbems.a
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) $^ -o $@ $(PKG_LIBS) $(LDLIBS)

$(OUT)/tests/%: tests/unit/%.c $(OUT)/libsbems.a tests/tap.h
	@mkdir -p $(@D)
	@echo "  TEST    $@"
	@$(CC) $(CPPFLAGS) -Itests $(PKG_CFLAGS) $(CFLAGS) $< $(OUT)/libsbems.a -o $@ $(PKG_LIBS) $(LDLIBS)

# libFuzzer targets: the library is built once more with clang and
# -fsanitize=fuzzer-no-link (coverage counters), each target links it.
FZ       := $(BUILD)/fuzz
FZ_FLAGS := -std=c17 -g -O1 -fsanitize=fuzzer-no-link,address,undefined -Isrc -D_GNU_SOURCE
FZOBJ    := $(LIBSRC:%.c=$(FZ)/obj/%.o) $(ASMSRC:%.S=$(FZ)/obj/%.o)

$(FZ)/obj/src/api/openapi_data.o: src/api/openapi.json
$(FZ)/obj/%.o: %.S
	@mkdir -p $(@D)
	@clang -c $< -o $@

$(FZ)/obj/%.o: %.c
	@mkdir -p $(@D)
	@echo "  FUZZCC  $<"
	@clang $(FZ_FLAGS) $(PKG_CFLAGS) -c $< -o $@

$(FZ)/libsbems.a: $(FZOBJ)
	@rm -f $@
	@ar rcs $@ $^

$(FZ)/fuzz_%: fuzz/fuzz_%.c $(FZ)/libsbems.a
	@echo "  FUZZER  $@"
	@clang $(FZ_FLAGS) -fsanitize=fuzzer $< $(FZ)/libsbems.a -o $@ $(PKG_LIBS) $(LDLIBS)

fuzz: $(FUZZERS)

check:
	@scripts/bootstrap check
	@$(MAKE) $(JFLAG) --no-print-directory SAN=1 tests
	@$(MAKE) $(JFLAG) --no-print-directory build
	@$(MAKE) $(JFLAG) --no-print-directory fuzz
	@scripts/check $(BUILD)

demo:
	@scripts/bootstrap demo
	@$(MAKE) $(JFLAG) --no-print-directory build
	@scripts/demo $(BUILD)/rel

bench:
	@scripts/bootstrap bench
	@$(MAKE) $(JFLAG) --no-print-directory build
	@bench/run $(BUILD)/rel

# The REST/WebSocket benchmark against Express, nginx and Socket.IO (npm).
bench-api:
	@scripts/bootstrap bench
	@$(MAKE) $(JFLAG) --no-print-directory build
	@bench/api/run_all

# sbems-sim with sbems: a simulated year through ingest, live-mode cost.
bench-sim:
	@scripts/bootstrap check
	@$(MAKE) $(JFLAG) --no-print-directory build
	@bench/sim/run $(BUILD)/rel

# `make install [PREFIX=/usr/local] [DESTDIR=]`: the programs in bin/, what
# they read at run time in share/sbems/ (the web UI, device profiles, the
# simulator's weather files: src/core/paths.h finds them beside bin/), the
# docs in share/doc/sbems/.  install-files copies an existing build (OUT=dir
# of the binaries) without building: the install test uses it.
PREFIX  ?= /usr/local
DATADIR  = $(DESTDIR)$(PREFIX)/share/sbems
install: build
	@$(MAKE) --no-print-directory install-files

install-files:
	@test -x $(OUT)/sbems -a -x $(OUT)/sbems-sim || { echo "no sbems build in $(OUT)"; exit 1; }
	@test -f web/dist/index.html || { echo "no web/dist (make build needs npm)"; exit 1; }
	install -d $(DESTDIR)$(PREFIX)/bin $(DATADIR)/web $(DATADIR)/profiles $(DATADIR)/sim/weather \
	    $(DESTDIR)$(PREFIX)/share/doc/sbems
	install -m 0755 $(OUT)/sbems $(OUT)/sbems-sim $(DESTDIR)$(PREFIX)/bin/
	rm -rf $(DATADIR)/web && cp -R web/dist $(DATADIR)/web && chmod -R u=rwX,go=rX $(DATADIR)/web
	install -m 0644 profiles/*.json $(DATADIR)/profiles/
	install -m 0644 sim/weather/* $(DATADIR)/sim/weather/
	install -m 0644 README.md LICENSE $(DESTDIR)$(PREFIX)/share/doc/sbems/
	cp -R docs $(DESTDIR)$(PREFIX)/share/doc/sbems/ && chmod -R u=rwX,go=rX $(DESTDIR)$(PREFIX)/share/doc/sbems

# The alert engine against ingest: 10,000 rules over 10,000 points (bench/bench_alerts.c).
bench-alerts:
	@scripts/bootstrap bench
	@$(MAKE) $(JFLAG) --no-print-directory build
	@$(CC) -std=c17 -O2 $(WARN) $(CPPFLAGS) -Ibench $(PKG_CFLAGS) bench/bench_alerts.c bench/bench.c \
	    $(OUT)/libsbems.a -o $(OUT)/bench_alerts $(PKG_LIBS) $(LDLIBS)
	@rm -rf $(BUILD)/bench-alerts && $(OUT)/bench_alerts -d $(BUILD)/bench-alerts -n 2000000

# The web UI's building dashboard in Chromium (bench/web/run).
bench-web:
	@scripts/bootstrap check
	@$(MAKE) $(JFLAG) --no-print-directory build
	@bench/web/run $(BUILD)/rel

# Forecast and M&V accuracy on real meter data (bench/analytics, docs/internals/analytics-*.md).
bench-analytics:
	@scripts/bootstrap build
	@bench/analytics/run_forecast --retrain-monthly
	@bench/analytics/run_mv

# The NIST APAR rules on LBNL's labelled AHU data, and every detector on the simulator's injected
# faults (bench/fdd, docs/internals/fdd-apar.md, docs/internals/fdd.md).
bench-fdd:
	@scripts/bootstrap build
	@bench/fdd/run
	@bench/fdd/sim/run

# Supervisory control on the simulator's plant: the fixed schedule against the MPC (control/mpc.h)
# on two Houston summer and two Boston winter weeks (bench/control/README.md).
.PHONY: bench-control
bench-control:
	@scripts/bootstrap build
	@bench/control/run

# Three nodes on one PostgreSQL and one Redis (cluster.leases) against one node, same run:
# ingest throughput and WebSocket latency (docs/internals/bench.md, "Several nodes").
.PHONY: bench-cluster
bench-cluster: build
	@scripts/bootstrap bench
	@bench/cluster/run --record $(OUT)

# The application database on PostgreSQL against SQLite, same run: refresh, audit, lookup and
# sign-in rates and latencies (bench/appdb/README.md).
.PHONY: bench-appdb
bench-appdb: build
	@scripts/bootstrap bench
	@bench/appdb/run $(OUT)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

.PHONY: bootstrap-build
