## ---- igor_gateway role (issue #4) --------------------------------------------------------------
# Controller-only tests of otnet.ports.igor_gateway: no Windows host is needed (or available). The molecule
# scenario runs the role from the installed tarball, hence `install` first.
TEST_TARGETS += test-igor
EXTRA_HELP += test-igor

.PHONY: test-igor
# The role's unit tests run with all the others (make unit); this adds its molecule scenario.
test-igor: install
	$(BIN)/molecule test -s igor_gateway
