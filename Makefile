# Messaging backend: build, test and run locally. `make help` lists the targets.
# Every variable below can be overridden: make test CONFIGURATION=Debug PG_PORT=35432
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

CONFIGURATION    ?= Release
ZK_PORT          ?= 22181
KAFKA_PORT       ?= 29092
PG_PORT          ?= 25432
S3_PORT          ?= 24569
EDGE_PORTS       ?= 8080 8081
ROUTER_PORT      ?= 8090
PROJECTIONS_PORT ?= 8091
BENCH_ARGS       ?=
ARGS             ?=
export CONFIGURATION ZK_PORT KAFKA_PORT PG_PORT S3_PORT EDGE_PORTS ROUTER_PORT PROJECTIONS_PORT

# Quiet, telemetry-free .NET CLI.
export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE := 1

SLN       := Messaging.sln
SCRIPTS   := infra/scripts
BENCH_DLL := tools/Bench/bin/$(CONFIGURATION)/net10.0/linux-x64/Messaging.Bench.dll
PROJECTIONS_DLL := src/Projections/bin/$(CONFIGURATION)/net10.0/linux-x64/Messaging.Projections.dll
EDGE_URLS := $(foreach p,$(EDGE_PORTS),--edge ws://127.0.0.1:$(p))

.PHONY: help deps infra-up infra-down infra-status infra-env build format-check test run stop smoke bench bench-idle bench-groups-1024 bench-router bench-projections bench-marten projections-cli rebuild analytics chaos clean

help:
	@echo "make deps          install Debian/npm dependencies (Kafka jars, s3rver, AsyncAPI CLI)"
	@echo "make infra-up      start ZooKeeper+Kafka 0.9, PostgreSQL 15, s3rver (infra-down, infra-status, infra-env)"
	@echo "make build         dotnet build $(SLN) -c $(CONFIGURATION)"
	@echo "make format-check  dotnet format --verify-no-changes"
	@echo "make contract      asyncapi validate docs/asyncapi.yaml (also part of make test)"
	@echo "make test          stack up, build, format check, all tests, stack down"
	@echo "make run           stack + 2 Edge nodes + Router + Projections in the foreground"
	@echo "make stop          stop what make run started, and the stack"
	@echo "make smoke         Bench smoke test against the running Edge nodes"
	@echo "make bench         Bench run \$$(BENCH_ARGS)"
	@echo "make bench-idle          Bench run: 1,000 connected devices at 1 send/s after 3 minutes of warm-up"
	@echo "make bench-groups-1024   Bench run: 10 groups of 1,024 users x 2 devices at 20 sends/s"
	@echo "make bench-router / bench-projections   component benchmarks (stack only)"
	@echo "make rebuild ARGS='--projection chat [--dry-run] [--chat ID]'   rebuild read models from the log (docs/operations.md)"
	@echo "make projections-cli ARGS='migrate|deadletters list|...'       any Projections operator command against the stack"
	@echo "make analytics [ARGS='--sql \"select ...\"']   example DuckDB queries over the chat.events archive on S3 (docs/analytics.md)"
	@echo "make bench-marten  the chat model on Marten, same backlog as bench-projections (docs/decisions/read-side.md)"
	@echo "make chaos         chaos suite: faults under a steady load (CHAOS_RATE=200 sends/s), report in bench/results/chaos.md (docs/reliability.md)"
	@echo "make clean         dotnet clean, stop the stack, delete its data and logs"

deps:
	@$(SCRIPTS)/install-deps.sh

infra-up: deps
	@$(SCRIPTS)/stack.sh up

infra-down:
	@$(SCRIPTS)/stack.sh down

# stack.sh status exits 1 when a component is down (for scripts); here it only reports.
infra-status:
	@$(SCRIPTS)/stack.sh status || true

# Prints the export lines the services and tests read: eval "$(make -s infra-env)"
infra-env:
	@$(SCRIPTS)/stack.sh env

build: deps
	dotnet build $(SLN) -c $(CONFIGURATION)

format-check: build
	dotnet format $(SLN) --verify-no-changes --no-restore

.PHONY: contract
contract: deps
	@$(SCRIPTS)/validate-contract.sh

# test.sh brings the stack up, builds, checks formatting, runs the tests and always tears
# down what it started (MESSAGING_TEST_KEEP_STACK=1 keeps it).
test: deps
	@$(SCRIPTS)/test.sh

# run.sh starts the stack itself so that Ctrl-C can stop exactly what it started.
run: deps build
	@$(SCRIPTS)/run.sh

stop:
	@$(SCRIPTS)/run.sh stop

smoke:
	@test -f $(BENCH_DLL) || { echo "missing $(BENCH_DLL): run make build (and make run in another terminal)"; exit 1; }
	eval "$$($(SCRIPTS)/stack.sh env)" && dotnet $(BENCH_DLL) smoke $(EDGE_URLS)

bench:
	@test -f $(BENCH_DLL) || { echo "missing $(BENCH_DLL): run make build (and make run in another terminal)"; exit 1; }
	eval "$$($(SCRIPTS)/stack.sh env)" && dotnet $(BENCH_DLL) run $(EDGE_URLS) $(BENCH_ARGS)

# Issue 9's idle target: 1,000 connected devices at 1 send/s, measured for 60 s once freshly
# started services (and the broker's JIT) have stopped compiling: ~3 minutes (docs/benchmarks.md).
BENCH_IDLE ?= --rates 1 --first-warmup 180 --duration 60 --chart ''
bench-idle:
	@test -f $(BENCH_DLL) || { echo "missing $(BENCH_DLL): run make build (and make run in another terminal)"; exit 1; }
	eval "$$($(SCRIPTS)/stack.sh env)" && dotnet $(BENCH_DLL) run $(EDGE_URLS) $(BENCH_IDLE) $(BENCH_ARGS)

# Issue 9's large-group target: 10 groups of 1,024 users x 2 devices (20,480 sockets), 20 sends/s.
# One process cannot hold 20,480 sockets under the usual hard limit of 20,000 file descriptors
# (and ulimit cannot raise it in a container), so two generators run side by side, 5 groups and
# 10 sends/s each, with their own user ids and results (docs/benchmarks.md). A minute of warm-up,
# as the ladder's first step: fresh services compile in their first minutes.
BENCH_GROUPS_1024 ?= --users 5120 --devices-per-user 2 --group-size 1024 --rates 10 --first-warmup 60 --duration 30 --drain 20 --setup-timeout 900 --settle 10 --chart ''
bench-groups-1024:
	@test -f $(BENCH_DLL) || { echo "missing $(BENCH_DLL): run make build (and make run in another terminal)"; exit 1; }
	eval "$$($(SCRIPTS)/stack.sh env)" && \
	  { dotnet $(BENCH_DLL) run $(EDGE_URLS) $(BENCH_GROUPS_1024) --user-prefix g1024a --results bench/results/groups-1024-a $(BENCH_ARGS) & first=$$!; \
	    dotnet $(BENCH_DLL) run $(EDGE_URLS) $(BENCH_GROUPS_1024) --user-prefix g1024b --results bench/results/groups-1024-b $(BENCH_ARGS); second=$$?; \
	    wait $$first && exit $$second; }

# Component benchmarks: need only the stack (make infra-up), not make run (docs/benchmarks.md).
bench-router:
	@test -f $(BENCH_DLL) || { echo "missing $(BENCH_DLL): run make build"; exit 1; }
	eval "$$($(SCRIPTS)/stack.sh env)" && dotnet $(BENCH_DLL) router $(BENCH_ARGS)

bench-projections:
	@test -f $(BENCH_DLL) || { echo "missing $(BENCH_DLL): run make build"; exit 1; }
	eval "$$($(SCRIPTS)/stack.sh env)" && dotnet $(BENCH_DLL) projections $(BENCH_ARGS)

# The Projections operator CLI with the stack's settings (stack.sh env), whatever the current
# directory: without them it read appsettings.json's defaults (127.0.0.1:5432) and crashed.
# A 256 MiB gen0 budget (GCgen0size has no runtimeconfig name, only this variable): a rebuild keeps
# several decoded pages alive, which the default budget promoted and collected again; GC pauses
# of a 500k-event chat rebuild fell from 10.4 s to 2.5-3.6 s (docs/operations.md, "Measured").
PROJECTIONS_CLI_GC ?= DOTNET_GCgen0size=0x10000000
projections-cli:
	@test -f $(PROJECTIONS_DLL) || { echo "missing $(PROJECTIONS_DLL): run make build"; exit 1; }
	@eval "$$($(SCRIPTS)/stack.sh env)" && env $(PROJECTIONS_CLI_GC) dotnet $(PROJECTIONS_DLL) $(ARGS)

rebuild:
	@$(MAKE) projections-cli ARGS="rebuild $(ARGS)"

# Copies the archive's recorded Parquet files to .local/analytics (DuckDB cannot read S3 here:
# its httpfs extension is downloaded on first use) and runs the example queries (docs/analytics.md).
ANALYTICS_DIR ?= $(CURDIR)/.local/analytics
analytics:
	@$(MAKE) projections-cli ARGS="analytics --dir $(ANALYTICS_DIR) $(ARGS)"
# The Marten evaluation (issue 10): in-process, needs only the stack (docs/benchmarks.md).
bench-marten:
	@test -f $(BENCH_DLL) || { echo "missing $(BENCH_DLL): run make build"; exit 1; }
	eval "$$($(SCRIPTS)/stack.sh env)" && dotnet $(BENCH_DLL) marten $(BENCH_ARGS)

# The chaos suite's full version (its short version runs inside make test): real service processes,
# kill -9 / SIGSTOP / chat.state loss / rolling restart / Kafka and PostgreSQL restarts under an
# open-loop load; needs make build. It runs on a stack instance of its own (other ports, data, pid
# files: CHAOS_STACK_DIR), started here and deleted after, so restarting its broker and its database
# never touches the stack of make run or of other test runs.
CHAOS_RATE ?= 200
CHAOS_STACK_DIR ?= /tmp/messaging-chaos-stack
CHAOS_STACK_ENV = MESSAGING_STACK_DIR=$(CHAOS_STACK_DIR) PG_DATA_DIR=$(CHAOS_STACK_DIR)-pg \
  ZK_PORT=32181 KAFKA_PORT=39092 PG_PORT=35432 S3_PORT=34569
chaos:
	@mkdir -p bench/results
	rc=0; export $(CHAOS_STACK_ENV) && $(SCRIPTS)/stack.sh up && eval "$$($(SCRIPTS)/stack.sh env)" && \
	  CHAOS_FULL=1 CHAOS_OWN_STACK=1 CHAOS_RATE=$(CHAOS_RATE) CHAOS_REPORT=$(CURDIR)/bench/results/chaos.md \
	  dotnet test tests/Messaging.IntegrationTests -c $(CONFIGURATION) --no-build --filter "FullyQualifiedName~Chaos.ChaosTests" --logger "console;verbosity=normal" || rc=$$?; \
	  export $(CHAOS_STACK_ENV) && $(SCRIPTS)/stack.sh purge; exit $$rc
	@cat bench/results/chaos.md

clean:
	-@$(SCRIPTS)/run.sh stop
	-dotnet clean $(SLN) -c $(CONFIGURATION) -v quiet
	@$(SCRIPTS)/stack.sh purge
	rm -rf .local/data .local/logs
