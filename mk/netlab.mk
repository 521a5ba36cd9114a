## ---- netlab: namespace lab harness (tools/netlab) --------------------------------------------
# Real-packet tests in network namespaces; needs root, ip, nft and sshd (DEBIAN_PACKAGES).
TEST_TARGETS += test-netlab
EXTRA_HELP += test-netlab

.PHONY: test-netlab
test-netlab: venv require-root
	$(BIN)/python -m pytest -q tests/netlab
