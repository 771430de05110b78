# IPv6 WireGuard Manager — the two commands are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# setuptools prints a boxed notice for every editable package (8 of them): it is information,
# not a problem; this filter names exactly that notice, so real warnings still show.
PIP := PYTHONWARNINGS="ignore:Editable installation" $(BIN)/pip
PLUGINS := $(wildcard plugins/*/pyproject.toml)
SYSTEM_TOOLS := wireguard-go wg bird ping redis-server ip chromium
# the Chinese screenshots need a CJK font; without it Chromium draws boxes
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
SYSTEM_PACKAGES := wireguard-go wireguard-tools bird2 iputils-ping redis-server iproute2 chromium fonts-wqy-microhei
# What the server itself needs on a gateway (no WireGuard kernel module: wireguard-go; BGP: bird).
RUN_TOOLS := wireguard-go bird
RUN_PACKAGES := wireguard-go bird2

.PHONY: install run run-packages test test-deps test-only lint bench system-packages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

install: $(BIN)/python  ## core + every bundled plugin, editable
	$(PIP) install --quiet -e . $(foreach p,$(PLUGINS),-e $(dir $(p)))

run: install run-packages  ## SQLite + in-process jobs on http://127.0.0.1:8000
	IPV6WGM_DATA_DIR=$${IPV6WGM_DATA_DIR:-.data} $(BIN)/ipv6wgm serve --generate-admin \
		--host $${HOST:-127.0.0.1} --port $${PORT:-8000}

run-packages:  ## the data-plane tools: installed with apt as root, otherwise named
	@missing=""; for t in $(RUN_TOOLS); do command -v $$t >/dev/null 2>&1 || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing the data-plane packages (missing:$$missing): $(RUN_PACKAGES)"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(RUN_PACKAGES) >/dev/null; \
		else \
			echo "WARNING: missing data-plane tools:$$missing. WireGuard servers and BGP sessions cannot start."; \
			echo "         Install them as root, e.g.: apt-get install $(RUN_PACKAGES)"; \
		fi; \
	fi

system-packages:  ## data-plane tools and the browser (Chromium, for Playwright) the tests drive; skipped when present
	@missing=""; for t in $(SYSTEM_TOOLS); do command -v $$t >/dev/null 2>&1 || missing="$$missing $$t"; done; \
	[ -e $(CJK_FONT) ] || missing="$$missing $(CJK_FONT)"; \
	if [ -n "$$missing" ]; then \
		echo "installing system packages (missing:$$missing)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; \
	fi

test-deps: install system-packages
	$(PIP) install --quiet -e '.[test]' -e tests/plugins/sample

lint: test-deps
	$(BIN)/ruff check core entrypoints plugins tests bench

test-only:
	$(BIN)/python -m pytest -q -p no:cacheprovider --durations=15 tests

test: test-deps lint test-only  ## everything CI runs

bench: install system-packages  ## needs nothing from `test`
	$(PIP) install --quiet -e '.[bench]'
	$(BIN)/python bench/api.py
	$(BIN)/python bench/wireguard.py
	$(BIN)/python bench/wg_dataplane.py
	$(BIN)/python bench/monitoring.py
	$(BIN)/python bench/cluster.py
	$(BIN)/python bench/webui.py
	$(BIN)/python bench/backup.py

clean:
	rm -rf $(VENV) .data build *.egg-info
