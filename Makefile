# The two commands of the README:
#   make demo   trains ESCA with mpiexec -n 2 on builtin:lee (300 Australian news articles
#               shipped with gensim, tokenized by gensim), exports to gensim and prints the top
#               words of every topic (loaded back through gensim); CORPUS=builtin:wiki250 for
#               the stemmed Wikipedia sample
#   make test   runs the test suite
# (make lint runs ruff with the rules of pyproject.toml; CI runs it before the tests.)
# Each creates .venv and installs the project into it the first time (and again only when
# pyproject.toml changes).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.esca-installed
OUT    ?= out
RANKS  ?= 2
K      ?= 20
ITERS  ?= 200
CORPUS ?= builtin:lee

.PHONY: demo test lint install clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,viz]"
	touch $(STAMP)

demo: $(STAMP)
	mkdir -p $(OUT)
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/mpiexec -n $(RANKS) $(BIN)/esca train $(CORPUS) \
	    --num-topics $(K) --iterations $(ITERS) --threads 1 --top 0 --out $(OUT)/model.h5
	$(BIN)/esca export $(OUT)/model.h5 --format gensim --out $(OUT)/gensim
	$(BIN)/python experiments/show_gensim_topics.py $(OUT)/gensim

test: $(STAMP)
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(OUT) .pytest_cache
