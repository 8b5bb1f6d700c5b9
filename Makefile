# The two commands: `make run` starts the whole system, `make test` runs every test.
# Both install what is missing first (scripts/setup.sh). Bun and tsc come from
# node_modules (pinned in package.json), not from PATH.

BUN := node_modules/.bin/bun
TSC := node_modules/.bin/tsc

.DEFAULT_GOAL := help
.PHONY: help setup run test typecheck clean build install uninstall

help: ## List the targets
	@awk 'BEGIN { FS = ":.*## " } /^[a-z-]+:.*## / { printf "  make %-10s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

setup: ## Install what is missing: npm packages, redis-server (apt-get as root)
	@bash scripts/setup.sh

run: setup ## Start redis, api (:8080), ws (:8081) and price; Ctrl-C stops them
	$(BUN) scripts/run.ts

typecheck: setup ## tsc --noEmit over the whole tree
	$(TSC) --noEmit -p .

test: typecheck ## Type check, then every test (bun test); ends with "N passed, N failed"
	@bash deploy/ensure-nspawn.sh
	@bash scripts/test.sh $(TEST_ARGS)

build: setup ## Compile dist/bin/api, dist/bin/ws, dist/bin/price (standalone executables)
	@bash scripts/build.sh

install: build ## Install on this host: systemd units behind nginx (root; docs/deployment.md)
	@bash deploy/install.sh

uninstall: ## Remove the installed services; keeps /data (PURGE=1 deletes it)
	@bash deploy/uninstall.sh $(if $(PURGE),--purge-data)

clean: ## Remove .run/ (the local database) and dist/
	rm -rf .run dist
