## ---- igor_gateway role (issue #4) --------------------------------------------------------------
# Controller-only tests of otnet.ports.igor_gateway: no Windows host is needed (or available). The molecule
# scenario runs the role from the installed tarball, hence `install` first.
TEST_TARGETS += test-igor
EXTRA_HELP += test-igor docs-igor

.PHONY: test-igor docs-igor
# The role's unit tests run with all the others (make unit); this adds its molecule scenario.
test-igor: install
	$(BIN)/molecule test -s igor_gateway

# Regenerate the rule and exclusion tables in roles/igor_gateway/README.md and docs/igor_gateway.md.
docs-igor: venv
	$(BIN)/python tests/igor_gateway_docs.py --write
