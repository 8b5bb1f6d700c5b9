# The two commands: `make run` starts the whole system, `make test` runs every test.
# Both install what is missing first (scripts/setup.sh run|test). Bun and tsc come from
# node_modules (pinned in package.json), not from PATH.

BUN := node_modules/.bin/bun
TSC := node_modules/.bin/tsc

.DEFAULT_GOAL := help
.PHONY: help setup run test unit typecheck clean build install uninstall report

help: ## List the targets
	@awk 'BEGIN { FS = ":.*## " } /^[a-z-]+:.*## / { printf "  make %-10s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

setup: ## Install what is missing: npm packages, redis-server, nginx, chromium (apt-get as root)
	@bash scripts/setup.sh

run: ## Build the page, start redis, api, ws, price and nginx (:80 as root, else :8000); Ctrl-C stops them
	@bash scripts/setup.sh run
	$(BUN) scripts/run.ts

# The folders whose tests sit beside their modules; test/ holds the end-to-end ones.
UNIT_DIRS := ./api ./common ./price ./ws ./web/src ./bench ./scripts ./nginx ./deploy

unit: ## The fast loop: the tests beside the modules, 4 files at a time, no set-up or tsc (about 15 s)
	@bash scripts/setup.sh npm
	@bash scripts/test.sh --parallel=4 $(UNIT_DIRS) $(TEST_ARGS)

typecheck: ## tsc --noEmit over the whole tree
	@bash scripts/setup.sh npm
	$(TSC) --noEmit -p .

test: ## Type check, then every test (bun test); ends with "N passed, N failed"
	@bash scripts/setup.sh test
	$(TSC) --noEmit -p .
	@bash scripts/test.sh $(TEST_ARGS)

report: ## The house's books and audit of make run's database (.run/); ARGS="--day 2026-12-02 --json" (docs/report.md)
	@DB_PATH="$${DB_PATH:-$${RUN_DIR:-.run}/data/bets.db}" $(BUN) api/main.ts report $(ARGS)

build: ## Compile dist/bin/{api,ws,price} (standalone executables) and the page into dist/web
	@bash scripts/setup.sh npm
	@bash scripts/build.sh
	$(BUN) web/build.ts dist/web

install: build ## Install on this host: systemd units behind nginx (root; DOMAIN=example.com for HTTPS; API_UPSTREAMS/WS_UPSTREAMS="h:p ..." or LOCAL_NODES=1 for several nodes, docs/nodes.md)
	@bash deploy/install.sh $(if $(DOMAIN),--domain $(DOMAIN)) $(if $(API_UPSTREAMS),--api-upstreams "$(API_UPSTREAMS)") $(if $(WS_UPSTREAMS),--ws-upstreams "$(WS_UPSTREAMS)") $(if $(LOCAL_NODES),--local-nodes)

uninstall: ## Remove the installed services, put back nginx's and Redis's files; keeps /data and the secrets (PURGE=1 deletes them)
	@bash deploy/uninstall.sh $(if $(PURGE),--purge-data)

clean: ## Remove .run/ (the local database) and dist/
	rm -rf .run dist
