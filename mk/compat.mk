## ---- compat: the supported ansible-core range, tested at both ends (issue 12) ----------------------------------
# Newest end: the main venv holds the newest ansible-core available for the controller's Python (constraints.txt:
# 2.19.14; ansible-core 2.20 needs Python 3.12, the Debian 12 python3 is 3.11), and `unit` and `integration` run
# every test on it. Oldest end: this second venv holds the oldest release meta/runtime.yml's requires_ansible admits,
# with the collection's own Python requirements (meta/ee-requirements.txt), and runs the unit tests and the quick
# playbook tests on it. Its other pins come from constraints.txt, less ansible-core and resolvelib (ansible-core
# pins resolvelib itself). requires_ansible is ">=2.19.1,<2.20": on 2.17 and 2.18 the playbook tests fail (their
# templating turns an unset variable's null into '' and the preflight refuses it); on 2.19.0 a unit test fails (a
# str setting given null is refused, 2.19.1 reads it as ''); 2.20 is not tested (Python 3.12).
OLDEST_CORE := $(shell sed -n 's/^requires_ansible: *">=\([0-9.]*\)[",].*/\1/p' meta/runtime.yml)
OLDEST_VENV := $(CACHE)/venv-core-$(OLDEST_CORE)
OLDEST_PLAYBOOK_TESTS := tests/integration/test_site_short_names.py tests/integration/test_seed_rows_playbook.py \
	tests/integration/test_site_preflight.py
EXTRA_HELP += test-oldest-core
TEST_TARGETS += test-oldest-core

.PHONY: test-oldest-core
test-oldest-core: $(OLDEST_VENV)/.installed install
	$(OLDEST_VENV)/bin/python -c 'import sys, ansible.release as r; sys.exit(r.__version__ != "$(OLDEST_CORE)" and \
	  f"{r.__version__} in $(OLDEST_VENV), expected $(OLDEST_CORE)")'
	$(OLDEST_VENV)/bin/python -m pytest -q -m "not netns" tests/unit
	PATH=$(OLDEST_VENV)/bin:$$PATH ANSIBLE_PYTHON_INTERPRETER=$(OLDEST_VENV)/bin/python \
	  timeout --kill-after=30 900 $(OLDEST_VENV)/bin/python -m pytest -q $(OLDEST_PLAYBOOK_TESTS)
	@echo "ansible-core $(OLDEST_CORE) (oldest, requires_ansible) passed the unit and playbook tests"

$(OLDEST_VENV)/.installed: constraints.txt meta/runtime.yml meta/ee-requirements.txt
	$(PYTHON) -m venv $(OLDEST_VENV)
	grep -v -E '^(ansible-core|resolvelib)==' constraints.txt > $(OLDEST_VENV)/constraints.txt
	$(OLDEST_VENV)/bin/pip install -q -c $(OLDEST_VENV)/constraints.txt ansible-core==$(OLDEST_CORE) \
	  -r meta/ee-requirements.txt pytest tree-sitter tree-sitter-powershell
	touch $@
