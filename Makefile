# Set-up and everyday commands. Every target that runs code depends on `install`, which is
# idempotent: a re-run only checks a stamp file and returns in well under a second.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install demo test test-fast bench clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The CPU build of torch lies on this machine's disk; install it before anything pulls torch.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev,ray,milvus]'
	# Debian's Chromium drives the console's browser test (Playwright never downloads a browser).
	command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; } || \
		echo "chromium not installed: the browser test will be skipped"
	# Meta's vpdq binding (the vPDQ interoperability test) builds against Debian's FFmpeg libraries.
	$(BIN)/python -c "import vpdq" 2>/dev/null || { { pkg-config --exists libavformat libswscale || \
		{ [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		pkg-config libavcodec-dev libavdevice-dev libavfilter-dev libavformat-dev libavutil-dev libswresample-dev \
		libswscale-dev >/dev/null; }; } && $(BIN)/pip install --quiet 'vpdq>=0.2.5'; } || \
		echo "vpdq not installed: the vPDQ interoperability test will be skipped"
	# The default title engine's static model, distilled offline from the bundled one (kept when already made).
	$(BIN)/simgov models distill >/dev/null
	touch $(STAMP)

# A port another process listens on is refused at once (before a minute of work): make demo DEMO_PORT=8001
DEMO_PORT ?= 8000
demo: install
	$(BIN)/simgov demo --port $(DEMO_PORT)

# What CI runs: the linter ([tool.ruff] in pyproject.toml), then the whole suite.
test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

test-fast: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -m "not slow and not browser"

bench: install
	$(BIN)/python -m benchmarks.run_all $(if $(FULL),--full,)

clean:
	rm -rf $(VENV) build *.egg-info demo-marketplace
